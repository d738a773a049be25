/** Virtual path rules (`filemq.md` §12.1) and how cache keys and paths join (§11.4). */
import { describe, expect, it } from "vitest";
import { cacheKeyPath, joinVirtual, pathProblem, relativeKey } from "../../protocols/filemq/paths.js";

describe("pathProblem", () => {
  it("accepts plain virtual paths, non-ASCII ones included", () => {
    for (const path of ["/a", "/a/b.txt", "/logs/2024/x.log", "/héllo wörld/日本語.txt", "/a/b:c"]) expect(pathProblem(path, "filename")).toBeUndefined();
  });

  it("accepts a trailing / on subscriptions only", () => {
    expect(pathProblem("/", "subscription")).toBeUndefined();
    expect(pathProblem("/public/", "subscription")).toBeUndefined();
    expect(pathProblem("/public/", "filename")).toMatch(/empty segment/);
    expect(pathProblem("/", "filename")).toMatch(/names no file|empty segment/);
  });

  it.each([
    ["../escape", /start with \//],
    ["escape", /start with \//],
    [".cache", /start with \//],
    ["", /start with \//],
    ["/../escape", /\.\. segment/],
    ["/a/../../escape", /\.\. segment/],
    ["/./a", /\. segment/],
    ["//abs", /empty segment/],
    ["/a//b", /empty segment/],
    ["/.cache", /hidden/],
    ["/a/.fmq-00.part", /hidden/],
    ["/a\\..\\..\\b", /backslash/],
    ["/C:/windows", /: in its first segment/],
    ["/a\nb", /control/],
    ["/a\u0000b", /control/],
    ["/a\u007fb", /control/],
    [`/${"x".repeat(255)}`, /longer than 255/],
  ])("refuses %j", (path, reason) => {
    expect(pathProblem(path, "filename")).toMatch(reason);
  });

  it("counts the 255-octet limit in UTF-8 octets", () => {
    expect(pathProblem(`/${"é".repeat(127)}`, "filename")).toBeUndefined();
    expect(pathProblem(`/${"é".repeat(128)}`, "filename")).toMatch(/longer than 255/);
  });
});

describe("joining", () => {
  it("joins with exactly one /", () => {
    expect(joinVirtual("/", "a/b.txt")).toBe("/a/b.txt");
    expect(joinVirtual("/logs", "x")).toBe("/logs/x");
    expect(joinVirtual("/logs/", "x")).toBe("/logs/x");
  });

  it("resolves cache keys against the subscription, root included (C made //name of them)", () => {
    expect(cacheKeyPath("/", "same.txt")).toBe("/same.txt");
    expect(cacheKeyPath("/logs", "a/b")).toBe("/logs/a/b");
    expect(cacheKeyPath("/logs", "/logs/a")).toBe("/logs/a");
    expect(cacheKeyPath("/logs", "/other/a")).toBeUndefined();
    expect(cacheKeyPath("/", "../etc/passwd")).toBeUndefined();
    expect(cacheKeyPath("/", ".cache")).toBeUndefined();
  });

  it("makes keys relative to the subscription, absolute where they cannot be", () => {
    expect(relativeKey("/", "/a/b")).toBe("a/b");
    expect(relativeKey("/logs", "/logs/a")).toBe("a");
    expect(relativeKey("/logs", "/logs2/a")).toBe("/logs2/a");
    expect(cacheKeyPath("/logs", relativeKey("/logs", "/logs2/a"))).toBe("/logs2/a");
  });
});
