// The socket calls Node cannot make, for the DHCP shell's direct (layer-2) mode and the ping check
// (src/server/direct/native.ts is the only user; README "DHCP modes"):
//
//   openPacket(ifindex, udpPort, onMessage)  AF_PACKET/SOCK_DGRAM socket bound to one interface,
//                                            with a classic BPF filter that lets only unfragmented
//                                            IPv4/UDP to udpPort through (what dhcpd's LPF and
//                                            Kea's raw sockets do). onMessage(ipPacket, ifindex,
//                                            sourceMac, packetType, isChecksumNotReady) per frame.
//   openUdp(port)                            UDP socket bound to 0.0.0.0:port that only sends
//                                            (routed replies: relays, renewing clients); a drop-all
//                                            filter keeps the kernel from queueing what it gets,
//                                            while its existence keeps unicasts to the port from
//                                            drawing ICMP port-unreachable.
//   openIcmp(onMessage)                      raw ICMP socket receiving echo replies only (ping
//                                            check); onMessage(ipPacket, sourceAddress).
//   sendPacket(h, ifindex, mac, ipPacket)    one IPv4 packet to a hardware address (the kernel adds
//                                            the Ethernet header).
//   sendTo(h, address, port, payload)        UDP datagram / ICMP message to an IPv4 address.
//   close(h), interfaceIndex(name)
//
// Everything else (IP/UDP/ICMP headers, checksums, which socket for which reply) is TypeScript.
// Receiving is a uv_poll on the main loop: callbacks run on the JS thread, in order. Errors come
// back as errno names ("ENETDOWN"); nothing here throws past a call except on bad arguments.

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum kind { KIND_PACKET, KIND_UDP, KIND_ICMP };

/** Frames handed to JS per poll wake-up before yielding to the loop (fairness). */
#define MAX_PER_WAKEUP 64
#define RECV_BUFFER_BYTES 65536

typedef struct sock {
  uv_poll_t poll;
  int fd;
  enum kind kind;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int is_polling;
  int is_closing;
  int is_closed;
  int is_finalized;
  uint8_t *buffer;
} sock;

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "twinlease_net: N-API call failed");  \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static napi_value errno_value(napi_env env, int err) {
  napi_value v;
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value undefined_value(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static void free_sock(sock *s) {
  free(s->buffer);
  free(s);
}

static void on_closed(uv_handle_t *handle) {
  sock *s = (sock *)handle->data;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  s->is_closed = 1;
  if (s->is_finalized) free_sock(s);
}

static void start_close(sock *s) {
  if (s->is_closing) return;
  s->is_closing = 1;
  if (s->callback != NULL) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
  }
  if (s->async != NULL) {
    napi_async_destroy(s->env, s->async);
    s->async = NULL;
  }
  if (s->is_polling) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  } else {
    on_closed((uv_handle_t *)&s->poll);
  }
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock *s = (sock *)data;
  s->is_finalized = 1;
  if (s->is_closed) {
    free_sock(s);
    return;
  }
  start_close(s);
}

/** Calls the socket's JS callback with argv; an exception becomes an uncaught exception. */
static void deliver(sock *s, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value cb, recv;
  if (napi_get_reference_value(env, s->callback, &cb) != napi_ok || cb == NULL) return;
  napi_get_global(env, &recv);
  napi_status st = napi_make_callback(env, s->async, recv, cb, argc, argv, NULL);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  sock *s = (sock *)handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (s->is_closing) return;
  napi_open_handle_scope(env, &scope);
  if (status < 0 || (events & UV_DISCONNECT)) {
    // The interface went away (packet sockets get ENODEV) or the socket failed: tell JS once.
    int code = status < 0 ? -status : EIO;
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0) code = soerr;
    napi_value argv[2];
    napi_get_null(env, &argv[0]);
    argv[1] = errno_value(env, code);
    uv_poll_stop(&s->poll);
    deliver(s, 2, argv);
    napi_close_handle_scope(env, scope);
    return;
  }
  for (int n = 0; n < MAX_PER_WAKEUP && !s->is_closing; n++) {
    if (s->kind == KIND_PACKET) {
      struct sockaddr_ll from;
      union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
      } control;
      struct iovec iov = {.iov_base = s->buffer, .iov_len = RECV_BUFFER_BYTES};
      struct msghdr msg;
      memset(&msg, 0, sizeof msg);
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.bytes;
      msg.msg_controllen = sizeof control.bytes;
      ssize_t got = recvmsg(s->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        napi_value argv[2];
        napi_get_null(env, &argv[0]);
        argv[1] = errno_value(env, errno);
        deliver(s, 2, argv);
        break;
      }
      // Our own transmissions come back to packet sockets as PACKET_OUTGOING: never ours to answer.
      if (from.sll_pkttype == PACKET_OUTGOING || got > RECV_BUFFER_BYTES) continue;
      // A packet from this host (a veth peer, a bridge) can carry a checksum the kernel left for
      // the NIC to fill in (TP_STATUS_CSUMNOTREADY, checksum offload): its UDP checksum field is
      // not the sum and must not be checked. Same in ISC dhcpd's LPF code.
      int is_checksum_not_ready = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
          struct tpacket_auxdata aux;
          memcpy(&aux, CMSG_DATA(c), sizeof aux);
          is_checksum_not_ready = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
        }
      }
      napi_value argv[5];
      void *copy;
      napi_create_buffer_copy(env, (size_t)got, s->buffer, &copy, &argv[0]);
      napi_create_int32(env, from.sll_ifindex, &argv[1]);
      napi_create_buffer_copy(env, from.sll_halen <= 8 ? from.sll_halen : 8, from.sll_addr, &copy,
                              &argv[2]);
      napi_create_int32(env, from.sll_pkttype, &argv[3]);
      napi_get_boolean(env, is_checksum_not_ready, &argv[4]);
      deliver(s, 5, argv);
    } else {
      struct sockaddr_in from;
      socklen_t fromlen = sizeof from;
      ssize_t got = recvfrom(s->fd, s->buffer, RECV_BUFFER_BYTES, MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&from, &fromlen);
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        break;
      }
      if (got > RECV_BUFFER_BYTES) continue;
      napi_value argv[2];
      void *copy;
      napi_create_buffer_copy(env, (size_t)got, s->buffer, &copy, &argv[0]);
      napi_create_uint32(env, ntohl(from.sin_addr.s_addr), &argv[1]);
      deliver(s, 2, argv);
    }
  }
  napi_close_handle_scope(env, scope);
}

/** Wraps `fd` as a JS handle; with a callback, starts polling it for input. */
static napi_value make_handle(napi_env env, int fd, enum kind kind, napi_value callback) {
  sock *s = calloc(1, sizeof(sock));
  if (s == NULL) {
    close(fd);
    napi_throw_error(env, "ENOMEM", "twinlease_net: out of memory");
    return NULL;
  }
  s->fd = fd;
  s->kind = kind;
  s->env = env;
  s->poll.data = s;
  napi_value handle;
  if (napi_create_external(env, s, finalize_sock, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "twinlease_net: cannot create a handle");
    return NULL;
  }
  if (callback != NULL) {
    s->buffer = malloc(RECV_BUFFER_BYTES);
    napi_value name;
    napi_create_string_utf8(env, "twinlease_net", NAPI_AUTO_LENGTH, &name);
    uv_loop_t *loop;
    if (s->buffer == NULL || napi_create_reference(env, callback, 1, &s->callback) != napi_ok ||
        napi_async_init(env, handle, name, &s->async) != napi_ok ||
        napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
      start_close(s);
      napi_throw_error(env, NULL, "twinlease_net: cannot poll the socket");
      return NULL;
    }
    s->is_polling = 1;
    uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, on_readable);
  }
  return handle;
}

static sock *sock_of(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) return NULL;
  sock *s = (sock *)data;
  return s->is_closing ? NULL : s;
}

static int attach_filter(int fd, struct sock_filter *code, unsigned short len) {
  struct sock_fprog prog = {.len = len, .filter = code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s (%s)", what, strerror(err), uv_err_name(-err));
  napi_throw_error(env, uv_err_name(-err), message);
  return NULL;
}

// openPacket(ifindex: number, udpPort: number, onMessage: Function)
static napi_value open_packet(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t ifindex = 0;
  uint32_t port = 0;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &ifindex) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &port) != napi_ok || ifindex <= 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "openPacket(ifindex, udpPort, onMessage)");
    return NULL;
  }
  // Protocol 0 until the filter is attached and the socket bound: nothing unfiltered is queued.
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "AF_PACKET socket (needs CAP_NET_RAW)", errno);
  // The packet starts at the IPv4 header (SOCK_DGRAM): IPv4/UDP, not a fragment, to `port`.
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                    // A = protocol
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),   // UDP?
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                    // A = flags + fragment offset
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),       // a later fragment: drop
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                   // X = IP header length
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                    // A = UDP destination port
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),          // ours?
      BPF_STMT(BPF_RET | BPF_K, 0x40000),                       // accept (whole packet)
      BPF_STMT(BPF_RET | BPF_K, 0),                             // drop
  };
  if (attach_filter(fd, code, sizeof code / sizeof code[0]) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "SO_ATTACH_FILTER", err);
  }
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "PACKET_AUXDATA", err);
  }
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_IP);
  addr.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind AF_PACKET", err);
  }
  return make_handle(env, fd, KIND_PACKET, argv[2]);
}

// openUdp(port: number): a send-only UDP socket on 0.0.0.0:port.
static napi_value open_udp(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t port = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "openUdp(port)");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "UDP socket", errno);
  int on = 1;
  int size = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  if (attach_filter(fd, drop, 1) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "SO_ATTACH_FILTER", err);
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind UDP 0.0.0.0", err);
  }
  return make_handle(env, fd, KIND_UDP, NULL);
}

// openIcmp(onMessage: Function): raw ICMP, echo replies only.
static napi_value open_icmp(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "openIcmp(onMessage)");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return throw_errno(env, "raw ICMP socket (needs CAP_NET_RAW)", errno);
  // Raw IPv4 sockets see the IP header first: keep ICMP type 0 (echo reply) only.
  struct sock_filter code[] = {
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0x40000),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  if (attach_filter(fd, code, sizeof code / sizeof code[0]) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "SO_ATTACH_FILTER", err);
  }
  return make_handle(env, fd, KIND_ICMP, argv[0]);
}

// sendPacket(handle, ifindex, mac: Buffer(6), ipPacket: Buffer) → undefined | errno name
static napi_value send_packet(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock *s = argc >= 4 ? sock_of(env, argv[0]) : NULL;
  int32_t ifindex = 0;
  void *mac = NULL, *data = NULL;
  size_t maclen = 0, len = 0;
  if (s == NULL || s->kind != KIND_PACKET || napi_get_value_int32(env, argv[1], &ifindex) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &mac, &maclen) != napi_ok || maclen != 6 ||
      napi_get_buffer_info(env, argv[3], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendPacket(openPacket handle, ifindex, mac(6), ipPacket)");
    return NULL;
  }
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memcpy(to.sll_addr, mac, 6);
  if (sendto(s->fd, data, len, 0, (struct sockaddr *)&to, sizeof to) < 0) return errno_value(env, errno);
  return undefined_value(env);
}

// sendTo(handle, address: uint32, port, payload: Buffer) → undefined | errno name
static napi_value send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock *s = argc >= 4 ? sock_of(env, argv[0]) : NULL;
  uint32_t address = 0, port = 0;
  void *data = NULL;
  size_t len = 0;
  if (s == NULL || s->kind == KIND_PACKET || napi_get_value_uint32(env, argv[1], &address) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok ||
      napi_get_buffer_info(env, argv[3], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendTo(openUdp/openIcmp handle, address, port, payload)");
    return NULL;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = s->kind == KIND_UDP ? htons((uint16_t)port) : 0;
  to.sin_addr.s_addr = htonl(address);
  if (sendto(s->fd, data, len, 0, (struct sockaddr *)&to, sizeof to) < 0) return errno_value(env, errno);
  return undefined_value(env);
}

// close(handle): idempotent.
static napi_value close_handle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock *s = argc >= 1 ? sock_of(env, argv[0]) : NULL;
  if (s != NULL) start_close(s);
  return undefined_value(env);
}

// interfaceIndex(name) → ifindex, 0 when there is no such interface.
static napi_value interface_index(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IF_NAMESIZE + 1];
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "interfaceIndex(name)");
    return NULL;
  }
  napi_value v;
  CHECK(napi_create_uint32(env, len >= IF_NAMESIZE ? 0 : if_nametoindex(name), &v));
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openPacket", NULL, open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openUdp", NULL, open_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openIcmp", NULL, open_icmp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendPacket", NULL, send_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendTo", NULL, send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_handle, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceIndex", NULL, interface_index, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
