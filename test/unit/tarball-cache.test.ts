/**
 * The packed vwh kept between runs (src/core/self-tarball.ts): `vwh init` and `vwh export` vendor the
 * running vwh, and npm pack costs seconds. A package folder of a few files and a packer that counts its
 * calls stand in for vwh and npm here; the real npm pack of the real vwh is installed and run by
 * runs-as-printed.test.ts.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cachedTarball, packageFingerprint } from "../../src/core/self-tarball.js";
import { withTempDir } from "../helpers.js";

async function fakePackage(dir: string): Promise<string> {
  const root = join(dir, "pkg");
  await mkdir(join(root, "dist", "src"), { recursive: true });
  await writeFile(join(root, "package.json"), JSON.stringify({ name: "vwh", files: ["dist/src", "README.md", "missing"] }));
  await writeFile(join(root, "dist", "src", "index.js"), "export {};\n");
  await writeFile(join(root, "README.md"), "# vwh\n");
  await writeFile(join(root, "notes.txt"), "not packed\n");
  return root;
}

/** A packer that answers with a new tarball on every call, after `delayMs`. */
function countingPacker(delayMs = 0) {
  let calls = 0;
  return {
    calls: () => calls,
    pack: async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return Buffer.from(`tarball ${calls}`);
    },
  };
}

describe("the packed vwh, cached while its files are unchanged", () => {
  it("packs once, then reads the cache; a changed packed file packs again and drops the stale tarball; an unpacked one does not", async () => {
    await withTempDir(async (dir) => {
      const root = await fakePackage(dir);
      const env = { XDG_CACHE_HOME: join(dir, "cache") };
      const packer = countingPacker();
      assert.equal((await cachedTarball({ env, root, pack: packer.pack })).toString(), "tarball 1");
      assert.equal((await cachedTarball({ env, root, pack: packer.pack })).toString(), "tarball 1");
      assert.equal(packer.calls(), 1);
      const folder = join(dir, "cache", "vwh", "packed");
      assert.equal(((await stat(folder)).mode & 0o777).toString(8), "700", "the cache folder is the user's alone");

      await writeFile(join(root, "notes.txt"), "changed, but not in files\n");
      assert.equal((await cachedTarball({ env, root, pack: packer.pack })).toString(), "tarball 1");

      const later = new Date(Date.now() + 5000);
      await utimes(join(root, "dist", "src", "index.js"), later, later);
      assert.equal((await cachedTarball({ env, root, pack: packer.pack })).toString(), "tarball 2");
      await writeFile(join(root, "README.md"), "# vwh, longer\n");
      assert.equal((await cachedTarball({ env, root, pack: packer.pack })).toString(), "tarball 3");
      assert.deepEqual((await readdir(folder)).filter((name) => name.endsWith(".tgz")).length, 1, "only the newest tarball is kept");
    });
  });

  it("of processes packing the same files at once, one packs and the others wait for its tarball", async () => {
    await withTempDir(async (dir) => {
      const root = await fakePackage(dir);
      const env = { XDG_CACHE_HOME: join(dir, "cache") };
      const packer = countingPacker(300);
      const tarballs = await Promise.all([1, 2, 3].map(() => cachedTarball({ env, root, pack: packer.pack })));
      assert.deepEqual(
        tarballs.map((bytes) => bytes.toString()),
        ["tarball 1", "tarball 1", "tarball 1"],
      );
      assert.equal(packer.calls(), 1);
    });
  });

  it("without a usable cache folder, or a manifest listing files, it packs every time", async () => {
    await withTempDir(async (dir) => {
      const root = await fakePackage(dir);
      const packer = countingPacker();
      // A file where the cache folder would go: refused for every user, root included.
      await writeFile(join(dir, "not-a-folder"), "");
      await cachedTarball({ env: { XDG_CACHE_HOME: join(dir, "not-a-folder") }, root, pack: packer.pack });
      await cachedTarball({ env: { XDG_CACHE_HOME: join(dir, "not-a-folder") }, root, pack: packer.pack });
      assert.equal(packer.calls(), 2);

      await writeFile(join(root, "package.json"), JSON.stringify({ name: "vwh" }));
      assert.equal(await packageFingerprint(root), undefined);
      await cachedTarball({ env: { XDG_CACHE_HOME: join(dir, "cache") }, root, pack: packer.pack });
      await cachedTarball({ env: { XDG_CACHE_HOME: join(dir, "cache") }, root, pack: packer.pack });
      assert.equal(packer.calls(), 4);
    });
  });
});
