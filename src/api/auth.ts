import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';

/**
 * Bearer tokens from `api.tokens_file` (one per line, `#` comments, blank lines
 * ignored) and `api.tokens`. Only SHA-256 digests are kept, and a presented token is
 * compared digest to digest with timingSafeEqual against every known one, so neither
 * the length nor the position of a match shows in the timing.
 */
export interface TokenLoad {
  /** How many distinct tokens are known. */
  count: number;
  /** Problems with the tokens file (missing, unreadable, readable by others), for the startup log. */
  warnings: string[];
}

export function parseTokensFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class TokenSet {
  private digests: Buffer[] = [];

  /** (Re)reads the tokens; the previous set is replaced only when this returns. */
  load(tokensFile: string | undefined, inline: readonly string[]): TokenLoad {
    const warnings: string[] = [];
    const tokens = new Set(inline.map((t) => t.trim()).filter((t) => t !== ''));
    if (tokensFile) {
      try {
        const st = fs.statSync(tokensFile);
        if ((st.mode & 0o004) !== 0) warnings.push(`${tokensFile} is readable by every user; chmod 600 it`);
        for (const t of parseTokensFile(fs.readFileSync(tokensFile, 'utf8'))) tokens.add(t);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        warnings.push(code === 'ENOENT' ? `tokens file ${tokensFile} does not exist` : `cannot read tokens file ${tokensFile}: ${code ?? (e as Error).message}`);
      }
    }
    this.digests = [...tokens].map(digest);
    return { count: this.digests.length, warnings };
  }

  get size(): number {
    return this.digests.length;
  }

  /** Does this Authorization header carry a known bearer token? */
  accepts(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!m) return false;
    const d = digest(m[1]!);
    let ok = false;
    // No early exit: every digest is compared whatever matched before.
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    return ok;
  }
}

export function noTokensAdvice(tokensFile: string): string {
  return (
    `the API has no bearer token, so every route but /api/v1/monitoring/health and the dashboard answers 401. ` +
    `Add one: \`umask 077; openssl rand -hex 32 >> ${tokensFile}\` (or set api.tokens: ["\${VIGIL_API_TOKEN}"] in vigil.yaml), then reload (SIGHUP) or restart`
  );
}
