// Loads the native addon (native/twinlease_net.c, built by `npm run build:native`): the socket
// calls Node cannot make (AF_PACKET, a send-only UDP socket, raw ICMP). Loaded only when direct
// mode or the ping check is configured, so udp mode never needs it (README "DHCP modes").

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** An open socket of the addon (an N-API external); close it with close(). */
export type NativeHandle = { readonly __nativeHandle: unique symbol };

export interface NativeNet {
  /**
   * onMessage(ipPacket, ifindex, sourceMac, packetType, isChecksumNotReady), or (null, errnoName)
   * once on failure. isChecksumNotReady: the kernel left the transport checksum to offload
   * (TP_STATUS_CSUMNOTREADY, a packet from this host), so the UDP checksum field is not the sum.
   */
  openPacket(
    ifindex: number,
    udpPort: number,
    onMessage: (
      packet: Buffer | null,
      ifindexOrError: number | string,
      sourceMac?: Buffer,
      type?: number,
      isChecksumNotReady?: boolean,
    ) => void,
  ): NativeHandle;
  openUdp(port: number): NativeHandle;
  /** onMessage(ipPacket, sourceAddress) per echo reply. */
  openIcmp(onMessage: (packet: Buffer | null, source: number | string) => void): NativeHandle;
  /** undefined when handed to the kernel, else the errno name. */
  sendPacket(
    handle: NativeHandle,
    ifindex: number,
    mac: Uint8Array,
    ipPacket: Uint8Array,
  ): string | undefined;
  sendTo(handle: NativeHandle, address: number, port: number, payload: Uint8Array): string | undefined;
  close(handle: NativeHandle): void;
  /** 0 when there is no such interface. */
  interfaceIndex(name: string): number;
}

const ADDON = fileURLToPath(new URL('../../../native/build/Release/twinlease_net.node', import.meta.url));

let cached: NativeNet | Error | null = null;

/** The addon, or an Error saying why it cannot be used (not built, wrong platform). */
export function loadNative(): NativeNet | Error {
  if (cached !== null) return cached;
  if (process.platform !== 'linux') {
    cached = new Error(`direct mode and the ping check need Linux (this is ${process.platform})`);
  } else if (!existsSync(ADDON)) {
    cached = new Error(`the native addon is not built (${ADDON}): run npm run build:native`);
  } else {
    try {
      cached = createRequire(import.meta.url)(ADDON) as NativeNet;
    } catch (err) {
      cached = new Error(`cannot load the native addon ${ADDON}: ${(err as Error).message}`);
    }
  }
  return cached;
}
