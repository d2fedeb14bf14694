// Taking a signed PDF apart for independent checks: the CMS in /Contents and
// the bytes its /ByteRange covers (what `openssl cms -verify -content` needs).
import * as asn1js from 'asn1js';

/** The /Contents DER (without its zero padding) and the bytes the ByteRange covers. */
export function signatureParts(pdf: Buffer): { cms: Buffer; signed: Buffer; byteRange: [number, number, number, number] } {
  const m = /\/ByteRange\s*\[(\d+) (\d+) (\d+) (\d+)\]/.exec(pdf.toString('latin1'));
  if (!m) throw new Error('no /ByteRange: the PDF is not signed');
  const [a, b, c, d] = m.slice(1).map(Number);
  const padded = Buffer.from(pdf.subarray(a + b + 1, c - 1).toString('latin1'), 'hex');
  const length = asn1js.fromBER(new Uint8Array(padded)).offset;
  return { cms: padded.subarray(0, length), signed: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]), byteRange: [a, b, c, d] };
}
