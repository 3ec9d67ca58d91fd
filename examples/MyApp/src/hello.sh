#!/bin/sh
# Built by the demo's custom build action.
echo "MyApp @VERSION@ (project @PROJECT@): hello from a cpsync custom action"
