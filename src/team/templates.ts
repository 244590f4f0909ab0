/**
 * The YAML templates shipped in the package's `templates/` folder (the demo team's policy and
 * admin starter policies). Located relative to this module, which sits two levels below the
 * package root both as src/team/*.ts and as dist/team/*.js.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Template file names shipped with devtunnel. */
export const POLICY_TEMPLATES = ['policy.example.yaml', 'policy.minimal.yaml', 'policy.catalogue.yaml'] as const;

/** Absolute path of the package's templates folder. */
export function templatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

/** The text of a template, e.g. `readTemplate('policy.example.yaml')`. */
export function readTemplate(name: string, dir: string = templatesDir()): string {
  if (!/^[a-z0-9.-]+\.yaml$/.test(name)) throw new TypeError(`not a template name: ${name}`);
  return readFileSync(`${dir.replace(/\/?$/, '/')}${name}`, 'utf8');
}

/** A template parsed from YAML (not yet validated). */
export function loadTemplate(name: string, dir?: string): unknown {
  return parse(readTemplate(name, dir));
}
