/**
 * The deployment manifests (deploy/, docs/deploy.md) name real commands and options: every geozarr
 * container's arguments parse with the command's own option table, every pod mounts the data at
 * the same path (plans name absolute paths), and a worker's grace fits in its pod's.
 */

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCommandArgs } from "../../src/cli/args.js";
import { COMMANDS } from "../../src/cli/main.js";

const DIR = "deploy";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith(".yaml") ? [join(dir, e.name)] : [],
  );
}

/** Every document of a YAML file, parsed by PyYAML (Debian's python3-yaml). */
function load(file: string): Manifest[] {
  const text = execFileSync("/usr/bin/python3", [
    "-c",
    "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
    file,
  ]);
  return JSON.parse(String(text));
}

interface Container {
  file: string;
  image: string;
  args: string[];
  mounts: string[];
  grace?: number | undefined;
}

/** What the test reads of a manifest: compose services, or a pod template's containers. */
interface Manifest {
  services?: Record<
    string,
    { image: string; command?: string[]; volumes?: string[]; stop_grace_period?: string }
  >;
  spec?: {
    template?: {
      spec?: {
        terminationGracePeriodSeconds?: number;
        containers?: { image: string; args?: string[]; volumeMounts?: { mountPath: string }[] }[];
      };
    };
  };
}

function containers(file: string, doc: Manifest): Container[] {
  if (doc?.services) {
    return Object.values(doc.services).map((s) => ({
      file,
      image: s.image,
      args: s.command ?? [],
      mounts: (s.volumes ?? []).map((v) => v.split(":")[1]!),
      grace: s.stop_grace_period ? Number.parseInt(s.stop_grace_period, 10) : undefined,
    }));
  }
  const pod = doc?.spec?.template?.spec;
  if (!pod) return [];
  return (pod.containers ?? []).map((c) => ({
    file,
    image: c.image,
    args: c.args ?? [],
    mounts: (c.volumeMounts ?? []).map((m) => m.mountPath),
    grace: pod.terminationGracePeriodSeconds,
  }));
}

const all = yamlFiles(DIR).flatMap((f) => load(f).flatMap((d) => containers(f, d)));
const ours = all.filter((c) => c.image.startsWith("geozarr:"));

/** Kubernetes' $(VAR) expansions, as the pod would see them. */
const expand = (a: string) =>
  a.replace("$(REDIS_URL)", "redis://geozarr-redis:6379").replace("$(JOB_COMPLETION_INDEX)", "7");

describe("deploy/ manifests", () => {
  it("run geozarr commands with options that exist", () => {
    expect(ours.length).toBeGreaterThanOrEqual(7);
    for (const c of ours) {
      const [name, ...rest] = c.args.map(expand);
      expect(Object.keys(COMMANDS), `${c.file}: ${c.args.join(" ")}`).toContain(name);
      expect(
        () => parseCommandArgs(COMMANDS[name!]!.spec, rest),
        `${c.file}: ${c.args.join(" ")}`,
      ).not.toThrow();
    }
  });

  it("mount the data at /data everywhere, and give workers more time to stop than their --grace", () => {
    for (const c of ours) expect(c.mounts, c.file).toEqual(["/data"]);
    const workers = ours.filter((c) => c.args[0] === "worker");
    expect(workers.length).toBe(2);
    for (const w of workers) {
      const grace = Number(w.args[w.args.indexOf("--grace") + 1]);
      expect(w.grace, w.file).toBeGreaterThan(grace);
    }
  });
});
