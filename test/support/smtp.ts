// A real SMTP server on loopback (smtp-server) that keeps what it receives, and
// just enough MIME parsing to read what nodemailer sent: for the e-mail tests.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  rcptTo: string[];
  raw: string;
}

/** An SMTP server on loopback that keeps what it receives and refuses mailboxes named `ditolak@...` (550). */
export class SmtpSink {
  received: Received[] = [];
  private server?: SMTPServer;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, cb) => (address.address.startsWith('ditolak@') ? cb(Object.assign(new Error('5.1.1 Mailbox unavailable'), { responseCode: 550 })) : cb()),
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.received.push({ rcptTo: session.envelope.rcptTo.map((a) => a.address), raw: Buffer.concat(chunks).toString('latin1') });
          cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  to(address: string): Received[] {
    return this.received.filter((m) => m.rcptTo.includes(address));
  }
}

/** A MIME message's headers (unfolded) and its parts' headers and decoded bodies; enough for nodemailer's multipart/mixed. */
export function parseMime(raw: string) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers = head.replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(headers)?.[1];
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers)![1];
  const parts = rest
    .join('\r\n\r\n')
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => {
      const [ph, ...pb] = p.replace(/^\r\n/, '').split('\r\n\r\n');
      const phu = ph.replace(/\r\n[ \t]+/g, ' ');
      const encoding = /^Content-Transfer-Encoding: (.*)$/im.exec(phu)?.[1].trim().toLowerCase();
      const body = pb.join('\r\n\r\n');
      const bytes =
        encoding === 'base64'
          ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
          : encoding === 'quoted-printable'
            ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1')
            : Buffer.from(body, 'latin1');
      return { headers: phu, bytes };
    });
  return { header, parts };
}
