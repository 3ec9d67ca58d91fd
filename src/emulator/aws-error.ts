// Errors the local endpoint returns, shaped as AWS shapes them so the SDK raises the right class.

export class AwsError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }
}

export const validation = (message: string) => new AwsError('ValidationException', message);
