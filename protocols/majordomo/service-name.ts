/**
 * Service names as the broker accepts them, for the broker and for the clients and workers that check a
 * name before sending it (a name the broker drops would otherwise surface only as a timeout).
 */

/** The longest service name, in octets (MDP/0.1 names are one frame; the broker's codec refuses longer). */
const MAX_OCTETS = 255;

/** Whether a service name is one the broker itself answers (RFC 8: the `mmi.` prefix). */
export function isMmiService(service: string): boolean {
  return service.startsWith("mmi.");
}

/** Whether a name can be a service: 1–255 octets of printable text. */
export function isValidServiceName(service: string): boolean {
  // Control characters (C0, DEL, C1) make names that logs and tools cannot show.
  return service.length > 0 && Buffer.byteLength(service) <= MAX_OCTETS && !/[\u0000-\u001f\u007f-\u009f]/.test(service);
}

/** Throws RangeError, naming the rule, unless `service` can be a service name. */
export function checkServiceName(service: string): void {
  if (!isValidServiceName(service)) throw new RangeError(`service name ${JSON.stringify(service)} must be 1-${MAX_OCTETS} octets of printable text`);
}
