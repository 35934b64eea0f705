/**
 * Sets `key` as the newest entry of `map`, then drops the oldest entries while there are more
 * than `max`: a small least-recently-set cache on Map's insertion order.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) return;
    map.delete(oldest);
  }
}
