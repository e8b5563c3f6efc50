/** Reading a body argument: a file, or standard input for `-`, byte for byte. */
import { readFile } from "node:fs/promises";
import { InputError, UsageError } from "../core/errors.js";

/** Standard input: the process's, or (in tests) any stream of bytes. */
export type StdinStream = AsyncIterable<Buffer | string> & { isTTY?: boolean };

export async function readBodyInput(file: string | undefined, what: string, stdin: StdinStream = process.stdin): Promise<Buffer> {
  if (file === undefined || file === "-") {
    if (stdin.isTTY) throw new UsageError(`no ${what}: give a file, or pipe it in with -`);
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `${file}: cannot read ${what}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message}`,
    );
  }
}
