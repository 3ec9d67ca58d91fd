// A CodePipeline operation's output that is already JSON text: the server sends it as it is. Lets
// an operation answer from a cache of serialized responses (e.g. GetPipeline while the pipeline has
// not changed) instead of rebuilding and stringifying the same object on every call.

export class JsonText {
  constructor(readonly text: string) {}
}
