#!/usr/bin/env python3
# The wire end of the differential test: it sits on the hub side of the server's veth
# (`p-srv` in $PFX-cli), injects the Ethernet frames the test composes, and reports every DHCP
# frame the server emits, with its link-layer and IP destination. Observing there, one hop from
# the server, sees where a reply went (relay, ciaddr, yiaddr/chaddr, broadcast) the same way for
# a server on raw sockets (Kea) and one on UDP sockets (Twinlease); a UDP socket on the client
# side cannot tell (Node's dgram has no IP_PKTINFO, and a frame to an unknown chaddr never
# reaches a socket). Node cannot open an AF_PACKET socket, hence Python (standard library only).
#
#   wire-agent.py IFACE
#   stdin:  {"t":"send","srcMac":hex,"dstMac":hex,"srcIp":"a.b.c.d","dstIp":..,"srcPort":n,"dstPort":n,"b64":..}
#           {"t":"arp","ip":"a.b.c.d","mac":hex}   answer ARP requests for ip with mac (a client's chaddr)
#   stdout: {"t":"ready","mac":hex}
#           {"t":"rx","at":ms,"srcMac","dstMac","srcIp","dstIp","srcPort","dstPort","b64"}  (UDP 67/68 only)
#           {"t":"error","message":..}
# It only moves bytes; DHCP is encoded and decoded by the test with src/wire.

import base64
import json
import os
import selectors
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ip_bytes(text):
    return socket.inet_aton(text)


def ip_text(raw):
    return socket.inet_ntoa(raw)


def frame(cmd):
    payload = base64.b64decode(cmd["b64"])
    src_ip, dst_ip = ip_bytes(cmd["srcIp"]), ip_bytes(cmd["dstIp"])
    udp_len = 8 + len(payload)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", cmd["srcPort"], cmd["dstPort"], udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex(cmd["dstMac"]) + bytes.fromhex(cmd["srcMac"]) + struct.pack("!H", ETH_P_IP)
    return eth + ip + udp


def main():
    iface = sys.argv[1]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    own_mac = sock.getsockname()[4]
    # Replies to the relay (10.77.0.2) and broadcasts reach this namespace's own stack: drain
    # them, so nothing answers the server with ICMP port-unreachable.
    drains = []
    for port in (67, 68):
        d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        d.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        d.bind(("0.0.0.0", port))
        d.setblocking(False)
        drains.append(d)
    arp = {}
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "wire")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    for d in drains:
        sel.register(d, selectors.EVENT_READ, "drain")
    out({"t": "ready", "mac": own_mac.hex()})
    pending = b""
    while True:
        for key, _ in sel.select():
            if key.data == "drain":
                try:
                    key.fileobj.recv(65535)
                except BlockingIOError:
                    pass
            elif key.data == "stdin":
                chunk = os.read(sys.stdin.fileno(), 65536)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if not line.strip():
                        continue
                    try:
                        cmd = json.loads(line)
                        if cmd["t"] == "send":
                            sock.send(frame(cmd))
                        elif cmd["t"] == "arp":
                            arp[cmd["ip"]] = bytes.fromhex(cmd["mac"])
                        else:
                            out({"t": "error", "message": "unknown command %s" % cmd["t"]})
                    except Exception as e:  # a bad command must not stop the agent
                        out({"t": "error", "message": "%s: %s" % (type(e).__name__, e)})
            else:
                data, addr = sock.recvfrom(65535)
                if addr[2] == PACKET_OUTGOING or len(data) < 14:
                    continue
                ethertype = struct.unpack("!H", data[12:14])[0]
                if ethertype == ETH_P_ARP and len(data) >= 42:
                    op = struct.unpack("!H", data[20:22])[0]
                    sender_mac, sender_ip, target_ip = data[22:28], data[28:32], data[38:42]
                    mac = arp.get(ip_text(target_ip))
                    if op == 1 and mac is not None:
                        reply = (sender_mac + mac + struct.pack("!H", ETH_P_ARP)
                                 + struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 2)
                                 + mac + target_ip + sender_mac + sender_ip)
                        sock.send(reply)
                    continue
                if ethertype != ETH_P_IP or len(data) < 34:
                    continue
                ihl = (data[14] & 0x0F) * 4
                if data[23] != 17 or len(data) < 14 + ihl + 8:
                    continue
                u = 14 + ihl
                sport, dport, ulen = struct.unpack("!HHH", data[u:u + 6])
                if sport not in (67, 68) and dport not in (67, 68):
                    continue
                out({
                    "t": "rx",
                    "at": int(time.time() * 1000),
                    "dstMac": data[0:6].hex(),
                    "srcMac": data[6:12].hex(),
                    "srcIp": ip_text(data[26:30]),
                    "dstIp": ip_text(data[30:34]),
                    "srcPort": sport,
                    "dstPort": dport,
                    "b64": base64.b64encode(data[u + 8:u + ulen]).decode(),
                })


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
