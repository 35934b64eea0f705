/**
 * Variables whose names say they hold secrets (`*token*`, `*secret*`, `*password*`, `*key*`,
 * SPEC §4): their values appear as `***` in records, chat, plans and explanations.
 */
const SECRET_NAME = /token|secret|password|key/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
