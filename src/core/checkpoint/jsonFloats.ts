/**
 * JSON numbers keep no type, but Python's do: `2.0` in a config.json is a float, `2` an int, and
 * transformers 5's strict configs refuse an int where a float field is declared
 * (`initializer_cutoff_factor: 2` → StrictDataclassFieldValidationError). JSON.parse then
 * JSON.stringify turns 2.0 into 2, so a rewritten config.json would no longer load in HF.
 *
 * floatLiteralPaths() finds the numbers written as floats with an integral value; a rewrite
 * passes them to stringifyKeepingFloats(), which writes them back as floats.
 */

/** JSON-pointer-like path of a value: keys and array indexes joined by "/". */
type Path = string;

const child = (path: Path, key: string | number): Path => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * Paths of every number in `text` whose literal has a fraction or exponent but whose value is a
 * whole number (2.0, 1e3, 160000.0). `text` must be valid JSON (parse it with JSON.parse first).
 */
export function floatLiteralPaths(text: string): Set<Path> {
  const out = new Set<Path>();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: Path): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (text[i] !== '}') {
        ws();
        const key = str();
        ws();
        i++; // ':'
        value(child(path, key));
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      ws();
      for (let n = 0; text[i] !== ']'; n++) {
        value(child(path, n));
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') {
      str();
    } else {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?|^true|^false|^null/.exec(text.slice(i, i + 400))!;
      if ((m[1] !== undefined || m[2] !== undefined) && Number.isInteger(Number(m[0]))) out.add(path);
      i += m[0].length;
    }
  };
  value('');
  return out;
}

/** JSON.stringify(value, null, indent), writing the numbers at `floats` as floats (2 → 2.0). */
export function stringifyKeepingFloats(value: unknown, floats: ReadonlySet<Path>, indent = 2): string {
  if (floats.size === 0) return JSON.stringify(value, null, indent);
  const paths = new Map<object, Path>();
  const marker = `@@layer-lens-float-${Math.random().toString(36).slice(2)}@@`;
  let root = true; // the first call is for the root value, held under "" by a wrapper object
  const text = JSON.stringify(
    value,
    function (this: unknown, key: string, v: unknown) {
      const here = root ? '' : child(paths.get(this as object) ?? '', Array.isArray(this) ? Number(key) : key);
      root = false;
      if (typeof v === 'object' && v !== null) paths.set(v, here);
      if (typeof v === 'number' && Number.isInteger(v) && floats.has(here)) return `${marker}${Object.is(v, -0) ? '-0' : v}`;
      return v;
    },
    indent,
  );
  return text.replace(new RegExp(`"${marker}(-?[0-9e+]+)"`, 'g'), (_, n: string) => (/[e.]/.test(n) ? n : `${n}.0`));
}
