// Reading JUnit XML reports: a small, strict reader for the subset test tools write
// (testsuites / testsuite / testcase with failure, error and skipped children). Pure.
//
// Reports come from the code under test, so they are treated as hostile: the reader never
// expands entities beyond XML's five and numeric references (a DOCTYPE is skipped, so there is no
// "billion laughs"), limits nesting depth, keeps only a bounded number of failure details and a
// bounded amount of text per failure, and builds no tree — memory stays proportional to the
// input string. Anything that is not well-formed is an error naming the line, because a truncated
// report (a runner killed mid-write) must not pass for a green one.

export interface FailedTest {
  /** `Suite.Class.test`: enclosing suite names, the class name when it adds something, the test. */
  readonly name: string;
  /** One line: the failure's message attribute, else the first line of its text, else its type. */
  readonly message: string;
}

export interface JUnitCounts {
  readonly passed: number;
  /** Test cases with a `<failure>` or an `<error>`. */
  readonly failed: number;
  readonly skipped: number;
}

export interface JUnitReport extends JUnitCounts {
  /** The first failing test cases, in document order (at most `limits.maxFailures`). */
  readonly failures: readonly FailedTest[];
}

export interface JUnitLimits {
  readonly maxDepth: number;
  readonly maxFailures: number;
  /** Characters kept of a failure's message. */
  readonly maxMessageChars: number;
}

export const DEFAULT_JUNIT_LIMITS: JUnitLimits = { maxDepth: 64, maxFailures: 50, maxMessageChars: 300 };

export class JUnitXmlError extends Error {
  override readonly name = 'JUnitXmlError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Replaces XML's predefined and numeric character references; anything else is left as written
 *  (reports are not validated against a DTD, and custom entities are never expanded). */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\uFFFD';
    }
    return PREDEFINED[ref] ?? whole;
  });
}

/** One line, at most `max` characters. */
function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

interface OpenCase {
  readonly label: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** The first failure's or error's message attribute, one line. */
  message: string | undefined;
  /** Its type attribute, the last resort for a message. */
  type: string | undefined;
  /** Its text, when it has no message attribute (bounded). */
  text: string;
  collecting: boolean;
}

/** `Suite.Class.test` for a test case: the enclosing suites, the class name unless a suite already
 *  says it (Gradle and Surefire name the suite after the class), the test's name. */
function labelTestCase(suites: readonly string[], className: string | undefined, testName: string): string {
  const parts = [...suites];
  const innermost = parts.at(-1);
  if (className) {
    if (innermost === undefined) parts.push(className);
    else if (className.endsWith(`.${innermost}`)) parts[parts.length - 1] = className;
    else if (className !== innermost && !innermost.endsWith(`.${className}`)) parts.push(className);
  }
  parts.push(testName);
  return parts.join('.');
}

/** Reads one JUnit XML document. Throws JUnitXmlError when it is not well-formed XML or not JUnit. */
export function parseJUnitXml(xml: string, limits: JUnitLimits = DEFAULT_JUNIT_LIMITS): JUnitReport {
  const source = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
  const lineAt = (index: number) => {
    let line = 1;
    for (let at = source.indexOf('\n'); at !== -1 && at < index; at = source.indexOf('\n', at + 1)) line += 1;
    return line;
  };
  const fail = (index: number, problem: string): never => {
    throw new JUnitXmlError(lineAt(index), problem);
  };

  const stack: { readonly name: string; readonly suite?: string }[] = [];
  const failures: FailedTest[] = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let current: OpenCase | undefined;
  let sawRoot = false;

  const closeCase = (open: OpenCase) => {
    if (open.outcome === 'passed') passed += 1;
    else if (open.outcome === 'skipped') skipped += 1;
    else {
      failed += 1;
      if (failures.length < limits.maxFailures) {
        const firstLine = open.text.split('\n').find((line) => line.trim() !== '');
        const message = open.message ?? (firstLine ? oneLine(firstLine, limits.maxMessageChars) : open.type?.trim() ? oneLine(open.type, limits.maxMessageChars) : 'failed');
        failures.push({ name: open.label, message });
      }
    }
  };

  const openElement = (name: string, attributes: ReadonlyMap<string, string>, at: number) => {
    if (stack.length === 0) {
      if (sawRoot) fail(at, `a second root element <${name}>`);
      if (name !== 'testsuites' && name !== 'testsuite') fail(at, `the root element is <${name}>, not <testsuites> or <testsuite>`);
      sawRoot = true;
    }
    if (stack.length >= limits.maxDepth) fail(at, `elements are nested more than ${limits.maxDepth} deep`);
    if (name === 'testcase') {
      // A test case inside a test case is not JUnit; counting it twice would be wrong.
      if (current) fail(at, '<testcase> inside another <testcase>');
      const suites = stack.flatMap((element) => (element.suite ? [element.suite] : []));
      current = { label: labelTestCase(suites, attributes.get('classname'), attributes.get('name') ?? '(unnamed)'), outcome: 'passed', message: undefined, type: undefined, text: '', collecting: false };
    } else if (current && stack.at(-1)?.name === 'testcase') {
      if (name === 'skipped' && current.outcome === 'passed') current.outcome = 'skipped';
      if ((name === 'failure' || name === 'error') && current.outcome !== 'failed') {
        // The first failure or error describes the test; later ones are usually consequences.
        current.outcome = 'failed';
        const message = attributes.get('message');
        current.message = message?.trim() ? oneLine(message, limits.maxMessageChars) : undefined;
        current.type = attributes.get('type');
        current.collecting = current.message === undefined;
      }
    }
    const suite = name === 'testsuite' ? attributes.get('name')?.trim() : undefined;
    stack.push(suite ? { name, suite } : { name });
  };

  const closeElement = (name: string, at: number) => {
    const top = stack.pop();
    if (!top) return fail(at, `</${name}> closes nothing`);
    if (top.name !== name) fail(at, `</${name}> where </${top.name}> was expected`);
    if (name === 'testcase' && current) {
      closeCase(current);
      current = undefined;
    } else if ((name === 'failure' || name === 'error') && current) current.collecting = false;
  };

  const addText = (text: string) => {
    if (!current?.collecting) return;
    const room = limits.maxMessageChars * 4 - current.text.length;
    if (room > 0) current.text += decodeXmlText(text.slice(0, room));
  };

  let index = 0;
  const length = source.length;
  while (index < length) {
    const lt = source.indexOf('<', index);
    const textEnd = lt === -1 ? length : lt;
    if (textEnd > index) {
      const text = source.slice(index, textEnd);
      if (stack.length === 0) {
        if (text.trim()) fail(index, sawRoot ? 'text after the root element' : 'text before the root element');
      } else addText(text);
    }
    if (lt === -1) break;
    index = lt;
    if (source.startsWith('<!--', index)) {
      const end = source.indexOf('-->', index + 4);
      if (end === -1) fail(index, 'a comment that never ends');
      index = end + 3;
    } else if (source.startsWith('<![CDATA[', index)) {
      const end = source.indexOf(']]>', index + 9);
      if (end === -1) fail(index, 'a CDATA section that never ends');
      if (stack.length === 0) fail(index, 'CDATA outside the root element');
      if (current?.collecting) current.text += source.slice(index + 9, Math.min(end, index + 9 + limits.maxMessageChars * 4));
      index = end + 3;
    } else if (source.startsWith('<?', index)) {
      const end = source.indexOf('?>', index + 2);
      if (end === -1) fail(index, 'a processing instruction that never ends');
      index = end + 2;
    } else if (source.startsWith('<!DOCTYPE', index)) {
      if (sawRoot) fail(index, 'a DOCTYPE after the root element');
      index = skipDoctype(source, index, fail);
    } else if (source.startsWith('</', index)) {
      NAME.lastIndex = index + 2;
      const match = NAME.exec(source);
      if (!match) return fail(index, 'a closing tag without a name');
      let at = index + 2 + match[0].length;
      while (at < length && isSpace(source.charCodeAt(at))) at += 1;
      if (source[at] !== '>') fail(index, `</${match[0]} is not closed with ">"`);
      closeElement(match[0], index);
      index = at + 1;
    } else {
      NAME.lastIndex = index + 1;
      const match = NAME.exec(source);
      if (!match) return fail(index, 'a "<" that starts no tag (write &lt; in text)');
      const name = match[0];
      const attributes = new Map<string, string>();
      let at = index + 1 + name.length;
      let selfClosing = false;
      for (;;) {
        const before = at;
        while (at < length && isSpace(source.charCodeAt(at))) at += 1;
        if (at >= length) fail(index, `<${name}> is not closed`);
        if (source[at] === '>') break;
        if (source.startsWith('/>', at)) {
          selfClosing = true;
          at += 1;
          break;
        }
        if (at === before) fail(at, `<${name}>: attributes must be separated by spaces`);
        NAME.lastIndex = at;
        const attribute = NAME.exec(source);
        if (!attribute) return fail(at, `<${name}>: an attribute without a name`);
        at += attribute[0].length;
        while (at < length && isSpace(source.charCodeAt(at))) at += 1;
        if (source[at] !== '=') fail(at, `<${name}>: attribute ${attribute[0]} has no value`);
        at += 1;
        while (at < length && isSpace(source.charCodeAt(at))) at += 1;
        const quote = source[at];
        if (quote !== '"' && quote !== "'") return fail(at, `<${name}>: the value of ${attribute[0]} is not quoted`);
        const close = source.indexOf(quote, at + 1);
        if (close === -1) fail(at, `<${name}>: the value of ${attribute[0]} never ends`);
        const raw = source.slice(at + 1, close);
        if (raw.includes('<')) fail(at, `<${name}>: "<" inside the value of ${attribute[0]}`);
        if (attributes.has(attribute[0])) fail(at, `<${name}>: attribute ${attribute[0]} is given twice`);
        attributes.set(attribute[0], decodeXmlText(raw));
        at = close + 1;
      }
      openElement(name, attributes, index);
      if (selfClosing) closeElement(name, index);
      index = at + 1;
    }
  }
  if (stack.length > 0) fail(length, `the document ends inside <${stack.at(-1)?.name}> (a truncated report?)`);
  if (!sawRoot) fail(length, 'no <testsuites> or <testsuite> element');
  return { passed, failed, skipped, failures };
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Skips `<!DOCTYPE …>`, including an internal subset in brackets, without interpreting it. */
function skipDoctype(source: string, start: number, fail: (index: number, problem: string) => never): number {
  let depth = 0;
  let quote: string | undefined;
  for (let at = start + 2; at < source.length; at += 1) {
    const char = source[at];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '[') depth += 1;
    else if (char === ']') depth -= 1;
    else if (char === '>' && depth <= 0) return at + 1;
  }
  return fail(start, 'a DOCTYPE that never ends');
}

/** Adds reports up; keeps the first `maxFailures` failure details across all of them. */
export function mergeReports(reports: readonly JUnitReport[], maxFailures = DEFAULT_JUNIT_LIMITS.maxFailures): JUnitReport {
  const failures: FailedTest[] = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const report of reports) {
    passed += report.passed;
    failed += report.failed;
    skipped += report.skipped;
    for (const failure of report.failures) if (failures.length < maxFailures) failures.push(failure);
  }
  return { passed, failed, skipped, failures };
}
