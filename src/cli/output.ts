/**
 * Report files written next to their target and renamed at the end, so a failed or interrupted
 * write never leaves a half-written or emptied file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { describeFsError } from '../core/files';

export class OutputFile {
  private readonly temp: string;
  private fd: number | undefined;

  constructor(readonly file: string) {
    this.temp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
      this.fd = fs.openSync(this.temp, 'wx');
    } catch (e) {
      throw new UserError(`cannot write the report: ${describeFsError(e)}`, file);
    }
  }

  write(text: string): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, text);
    } catch (e) {
      this.discard();
      throw new UserError(`cannot write the report: ${describeFsError(e)}`, this.file);
    }
  }

  writeAll(chunks: Iterable<string>): void {
    for (const c of chunks) this.write(c);
  }

  /** Renames the finished file into place. */
  commit(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
      this.fd = undefined;
      fs.renameSync(this.temp, this.file);
    } catch (e) {
      this.discard();
      throw new UserError(`cannot write the report: ${describeFsError(e)}`, this.file);
    }
    console.log(`wrote ${this.file}`);
  }

  /** Drops the temp file; the target is left as it was. */
  discard(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(this.temp, { force: true });
  }
}

export function writeOutput(file: string, text: string): void {
  const out = new OutputFile(file);
  out.write(text);
  out.commit();
}

/** --json/--csv must not replace the model's own files, the inputs being read, or each other. */
export function checkOutputs(outputs: (string | undefined)[], modelDir: string | undefined, inputFiles: string[]): void {
  const model = modelDir === undefined ? undefined : realish(modelDir);
  const inputs = new Set(inputFiles.map(realish));
  const seen = new Set<string>();
  for (const out of outputs) {
    if (out === undefined) continue;
    const target = realish(out);
    if (!fs.existsSync(path.dirname(target))) throw new UserError('cannot write the report: its folder does not exist', out);
    if (model !== undefined && (path.dirname(target) === model || target === model)) {
      throw new UserError('refusing to write the report into the model folder; choose a path outside it', out);
    }
    if (inputs.has(target)) throw new UserError(`refusing to overwrite the ${modelDir === undefined ? 'input report' : '--file input'} with the output`, out);
    if (seen.has(target)) throw new UserError('--json and --csv name the same file', out);
    seen.add(target);
  }
}

function realish(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      return abs;
    }
  }
}
