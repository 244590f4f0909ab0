/**
 * Last line of defence: any text that leaves the process through an error path is
 * scrubbed of the secrets this process knows about. Secrets are registered as they
 * are read (authtoken, team secrets, invite code).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short values would redact ordinary words; real secrets are long.
    if (secret && secret.length >= 8) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('[redacted]');
    return out;
  }
}
