/**
 * Changes some fields of a piece of run state in place, type-checked: unlike `Object.assign`, a
 * misspelt field or a status that does not exist does not compile. The state machine's changes
 * go through here.
 */
export function setFields<T extends object>(target: T, changes: NoInfer<Partial<T>>): T {
  return Object.assign(target, changes);
}
