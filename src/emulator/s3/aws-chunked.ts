// Decodes `Content-Encoding: aws-chunked` bodies incrementally, as they stream in. Recent SDKs
// and the AWS CLI send them for streaming uploads (`x-amz-content-sha256:
// STREAMING-UNSIGNED-PAYLOAD-TRAILER` or `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`):
//
//   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n
//   [<trailer name>:<value>\r\n …]\r\n
//
// Chunk and trailer signatures are not verified (secrets are not checked anywhere here).

const MAX_LINE = 4096;

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export class AwsChunkedError extends Error {}

export class AwsChunkedDecoder {
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  private crlfSeen = 0;
  readonly trailers = new Map<string, string>();

  /** Feeds raw bytes; returns the decoded data they contained (views into `input`, not copies). */
  write(input: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < input.length) {
      switch (this.state) {
        case 'size':
        case 'trailer': {
          const newline = input.indexOf(0x0a, at);
          const end = newline < 0 ? input.length : newline + 1;
          this.line += input.toString('latin1', at, end);
          at = end;
          if (this.line.length > MAX_LINE) throw new AwsChunkedError('aws-chunked line too long');
          if (newline >= 0) this.finishLine();
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, input.length - at);
          out.push(input.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (input[at] !== expected) throw new AwsChunkedError('aws-chunked data not followed by CRLF');
          at++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.state = 'size';
          }
          break;
        }
        case 'done':
          // Anything after the final empty line is not part of the payload.
          return out;
      }
    }
    return out;
  }

  /** Throws when the body ended before the terminating chunk and trailer section. */
  end(): void {
    if (this.state !== 'done') throw new AwsChunkedError('aws-chunked body ended early');
  }

  private finishLine(): void {
    const line = this.line.replace(/\r?\n$/, '');
    this.line = '';
    if (this.state === 'size') {
      const size = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line);
      if (!size) throw new AwsChunkedError(`bad aws-chunked size line: ${line.slice(0, 80)}`);
      this.remaining = parseInt(size[1] as string, 16);
      this.state = this.remaining === 0 ? 'trailer' : 'data';
      return;
    }
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new AwsChunkedError(`bad aws-chunked trailer: ${line.slice(0, 80)}`);
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}
