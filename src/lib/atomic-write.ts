/**
 * Writing a file so that a reader (or a crash) never sees half of it: write a temporary file beside
 * it, flush it to disk, then rename (or link) it to the name.
 */
import { randomBytes } from "node:crypto";
import { link, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Writes and flushes a temporary file beside `file`; returns its path. */
async function writeTemporary(file: string, content: string | Buffer, mode = 0o644): Promise<string> {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  return temporary;
}

export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  const temporary = await writeTemporary(file, content);
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Like writeFileAtomic, but never replaces a file: the temporary file is hard-linked to the name,
 * which fails if anything is there. Returns false (writing nothing) when the name is taken.
 */
export async function writeNewFileAtomic(file: string, content: string | Buffer, mode?: number): Promise<boolean> {
  const temporary = await writeTemporary(file, content, mode);
  try {
    await link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}
