import { it } from 'vitest';
import { TcpPeer, describeSegment } from '../../helpers/tcp-peer.js';
it('smoke', () => {
  const p = new TcpPeer();
  const { conn, rec, synAck } = p.passiveOpen();
  console.log(describeSegment(synAck), Array.from(synAck.rawOptions), conn.stateName);
  p.sendData('hello');
  p.advance(100);
  for (const s of p.takeAll()) console.log(describeSegment(s));
  console.log(rec.bytes().toString());
  const a = p.activeOpen();
  console.log(describeSegment(a.syn), Array.from(a.syn.rawOptions), a.conn.stateName);
});
