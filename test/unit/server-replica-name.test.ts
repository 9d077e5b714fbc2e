import { describe, expect, it } from 'vitest';
import { resolveReplicaName } from '../../server/src/replica-name.js';

const fromDns = { from: 'reverse-dns', fallback: '3f2a9c1d7e0b' } as const;

describe('resolveReplicaName', () => {
  it('takes REPLICA_NAME and the host name as they are, without a lookup', async () => {
    const lookup = () => Promise.reject(new Error('must not be asked'));
    expect(await resolveReplicaName({ from: 'env', name: 'grpc-server-1' }, '0.0.0.0', lookup)).toEqual({
      name: 'grpc-server-1',
      from: 'REPLICA_NAME',
    });
    expect(await resolveReplicaName({ from: 'hostname', name: 'box' }, '0.0.0.0', lookup)).toEqual({ name: 'box', from: 'hostname' });
  });

  it("reverse-dns: the first label of Docker's PTR answer, for the address it binds", async () => {
    const asked: string[] = [];
    const lookup = async (address: string) => {
      asked.push(address);
      return ['lab-a-grpc-server-2.lab-a_default'];
    };
    expect(await resolveReplicaName(fromDns, '172.18.0.3', lookup)).toEqual({
      name: 'lab-a-grpc-server-2',
      from: 'reverse-dns 172.18.0.3',
    });
    expect(asked).toEqual(['172.18.0.3']);
  });

  it('reverse-dns that fails or answers nothing falls back to the host name and says why', async () => {
    const failing = async () => Promise.reject(Object.assign(new Error('queryPtr ETIMEOUT'), { code: 'ETIMEOUT' }));
    expect(await resolveReplicaName(fromDns, '172.18.0.3', failing)).toEqual({
      name: '3f2a9c1d7e0b',
      from: 'hostname (reverse-dns of 172.18.0.3 failed: ETIMEOUT)',
    });
    expect(await resolveReplicaName(fromDns, '172.18.0.3', async () => [])).toEqual({
      name: '3f2a9c1d7e0b',
      from: 'hostname (reverse-dns: no name for 172.18.0.3)',
    });
  });

  it('reverse-dns never takes a name that would not print as one token', async () => {
    const result = await resolveReplicaName(fromDns, '172.18.0.3', async () => ['bad\tname.net']);
    expect(result.name).toBe('3f2a9c1d7e0b');
    expect(result.from).toMatch(/^hostname \(reverse-dns of 172\.18\.0\.3 failed: the reverse-DNS name of 172\.18\.0\.3 must be/);
  });
});
