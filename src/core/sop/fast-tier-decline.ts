/**
 * How the fast tier says "not sure": a throw from anywhere inside the conversion, caught once at
 * its top (fastMarkdownTree), after which the text is parsed by micromark as before.
 */
export class Decline extends Error {}

export function decline(why: string): never {
  throw new Decline(why);
}
