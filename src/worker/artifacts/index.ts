// Artifact handling for `cpsync worker`: ZIP artifacts between S3 and a per-job workspace.

export { createArtifactTransfer, MIN_PART_SIZE, type ArtifactTransferOptions } from './s3-transfer.js';
export { kmsKeyFor } from './sse.js';
export { classifyTransferError, ExpiredCredentials, isExpiredCredentials, type TransferSite } from './transfer-errors.js';
export { HostileArchive, HOSTILE_RULES, type HostileRule } from './archive-rules.js';
export { extractArchive, extractZip, type ExtractOptions, type ExtractResult, type ZipSource } from './extract.js';
export { FIXED_MTIME, listTree, zipDirectory, type TreeEntry, type ZipStream } from './zip.js';
