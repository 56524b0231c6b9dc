/**
 * A parser of the small Python literals a `.npy` header is written in (`{'descr': '<f4', 'fortran_order':
 * False, 'shape': (2, 3), }`): dicts, tuples, lists, strings, integers, True, False and None. It builds
 * values, never evaluates anything.
 *
 * @packageDocumentation
 */

/** A parsed Python literal: dicts become Maps with string keys, tuples and lists arrays (told apart by `kind`). */
export type PythonLiteral =
  | string
  | number
  | boolean
  | null
  | { kind: 'tuple' | 'list'; items: PythonLiteral[] }
  | { kind: 'dict'; entries: Map<string, PythonLiteral> };

/** Deeper nesting than any header needs is refused, so that hostile input cannot exhaust the call stack. */
const MAX_DEPTH = 32;

/**
 * The value of the Python literal `text`, which may be surrounded by whitespace.
 *
 * @throws Error naming the position of the first thing that is not part of a literal of this grammar.
 */
export function parsePythonLiteral(text: string): PythonLiteral {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${at} of ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`);
  };
  const skipSpace = (): void => {
    while (at < text.length && ' \t\r\n'.includes(text[at])) at++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[at] !== char) fail(`expected '${char}'`);
    at++;
  };

  const parseString = (): string => {
    const quote = text[at++];
    const end = text.indexOf(quote, at);
    if (end < 0) fail('unterminated string');
    const value = text.slice(at, end);
    // numpy writes dtype names and keys, which never need escapes: a backslash means something else.
    if (value.includes('\\')) fail('escapes in strings are not supported');
    at = end + 1;
    return value;
  };

  const parseNumber = (): number => {
    const match = /^-?\d+L?/.exec(text.slice(at, at + 40));
    if (match === null) return fail('expected a value');
    at += match[0].length;
    // Python 2 wrote long integers with an 'L' suffix.
    const value = Number(match[0].replace('L', ''));
    if (!Number.isSafeInteger(value)) fail(`integer ${match[0]} is too large`);
    return value;
  };

  /** Items up to `close`, and whether a comma followed the last one (`(3,)` is a tuple, `(3)` is 3). */
  const parseSequence = (close: string, depth: number): [PythonLiteral[], boolean] => {
    const items: PythonLiteral[] = [];
    let comma = false;
    for (;;) {
      skipSpace();
      if (text[at] === close) {
        at++;
        return [items, comma];
      }
      items.push(parseValue(depth + 1));
      skipSpace();
      comma = text[at] === ',';
      if (comma) at++;
      else if (text[at] !== close) fail(`expected ',' or '${close}'`);
    }
  };

  const parseDict = (depth: number): PythonLiteral => {
    const entries = new Map<string, PythonLiteral>();
    for (;;) {
      skipSpace();
      if (text[at] === '}') {
        at++;
        return { kind: 'dict', entries };
      }
      if (text[at] !== "'" && text[at] !== '"') fail('expected a string key');
      const key = parseString();
      if (entries.has(key)) fail(`key '${key}' appears twice`);
      expect(':');
      entries.set(key, parseValue(depth + 1));
      skipSpace();
      if (text[at] === ',') at++;
      else if (text[at] !== '}') fail("expected ',' or '}'");
    }
  };

  const parseValue = (depth: number): PythonLiteral => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    skipSpace();
    const char = text[at];
    if (char === '{') {
      at++;
      return parseDict(depth);
    }
    if (char === '(') {
      at++;
      const [items, comma] = parseSequence(')', depth);
      return items.length === 1 && !comma ? items[0] : { kind: 'tuple', items };
    }
    if (char === '[') {
      at++;
      return { kind: 'list', items: parseSequence(']', depth)[0] };
    }
    if (char === "'" || char === '"') return parseString();
    for (const [word, value] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    return parseNumber();
  };

  const value = parseValue(0);
  skipSpace();
  if (at !== text.length) fail('unexpected text after the value');
  return value;
}
