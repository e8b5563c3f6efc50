import { stat } from "node:fs/promises";

/** Whether anything exists at the path (file or folder). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
