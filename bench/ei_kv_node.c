/* SPDX-License-Identifier: Apache-2.0
 * The plainest C node written with OTP's ei, a reference for bench/run: one thread that polls
 * its listening socket and connections, reads one message at a time (ei_xreceive_msg) and answers
 * the seed KVStore's protocol under a registered name: {'$gen_call', {Pid, Tag}, {put, K, V}} ->
 * {Tag, ok}; {get, K} -> {Tag, V or nil}; cast {delete, K}. The reply goes to the caller's pid with
 * ei_send. Keys and values stay as their encoded bytes. It does not offer monitors: a caller
 * of a dead server is not told and waits for its timeout. net_kernel's {is_auth, _} gets `yes`
 * so that net_adm:ping works. Usage: ei_kv_node ALIVE@HOST COOKIE NAME (ERL_EPMD_PORT is read
 * by ei). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ei.h"

struct entry { char *key, *val; int klen, vlen; }; /* key NULL: free slot; val NULL: deleted */
static struct entry *tab;
static size_t cap = 1024, used;

static struct entry *slot(struct entry *t, size_t n, const char *k, int klen) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (int i = 0; i < klen; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
  size_t i = h & (n - 1);
  while (t[i].key && !(t[i].klen == klen && memcmp(t[i].key, k, klen) == 0)) i = (i + 1) & (n - 1);
  return &t[i];
}

static void put(const char *k, int klen, const char *v, int vlen) {
  struct entry *e = slot(tab, cap, k, klen);
  if (!e->key) {
    e->key = malloc(klen);
    memcpy(e->key, k, klen);
    e->klen = klen;
    if (++used * 2 > cap) { /* grow: rehash every entry into a table twice as large */
      struct entry *t = calloc(cap * 2, sizeof *t);
      for (size_t i = 0; i < cap; i++)
        if (tab[i].key) *slot(t, cap * 2, tab[i].key, tab[i].klen) = tab[i];
      free(tab);
      tab = t;
      cap *= 2;
      e = slot(tab, cap, k, klen);
    }
  }
  e->val = realloc(e->val, vlen > 0 ? vlen : 1);
  memcpy(e->val, v, vlen);
  e->vlen = vlen;
}

/* Handles one message for the server (or net_kernel); anything it does not know is dropped. */
static void handle(int fd, const char *b, int is_net_kernel, ei_x_buff *out) {
  int i = 0, arity, start, klen, vstart;
  char atom[MAXATOMLEN_UTF8], op[MAXATOMLEN_UTF8];
  erlang_pid from;
  if (ei_decode_version(b, &i, NULL) || ei_decode_tuple_header(b, &i, &arity) ||
      ei_decode_atom(b, &i, atom))
    return;
  if (arity == 2 && !strcmp(atom, "$gen_cast") && !is_net_kernel) { /* {delete, K} */
    if (ei_decode_tuple_header(b, &i, &arity) || arity != 2 || ei_decode_atom(b, &i, op) ||
        strcmp(op, "delete"))
      return;
    start = i;
    if (ei_skip_term(b, &i)) return;
    struct entry *e = slot(tab, cap, b + start, i - start);
    if (e->key) { free(e->val); e->val = NULL; }
    return;
  }
  if (arity != 3 || strcmp(atom, "$gen_call") || ei_decode_tuple_header(b, &i, &arity) ||
      arity != 2 || ei_decode_pid(b, &i, &from))
    return;
  start = i; /* Tag: a reference, or [alias | Ref] from OTP 24 on; copied back as it came */
  if (ei_skip_term(b, &i)) return;
  out->index = 0;
  ei_x_encode_version(out);
  ei_x_encode_tuple_header(out, 2);
  ei_x_append_buf(out, b + start, i - start);
  if (is_net_kernel) {
    ei_x_encode_atom(out, "yes");
  } else {
    if (ei_decode_tuple_header(b, &i, &arity) || ei_decode_atom(b, &i, op)) return;
    start = i;
    if (ei_skip_term(b, &i)) return;
    klen = i - start;
    if (arity == 3 && !strcmp(op, "put")) {
      vstart = i;
      if (ei_skip_term(b, &i)) return;
      put(b + start, klen, b + vstart, i - vstart);
      ei_x_encode_atom(out, "ok");
    } else if (arity == 2 && !strcmp(op, "get")) {
      struct entry *e = slot(tab, cap, b + start, klen);
      if (e->key && e->val) ei_x_append_buf(out, e->val, e->vlen);
      else ei_x_encode_atom(out, "nil");
    } else {
      return;
    }
  }
  if (ei_send(fd, &from, out->buff, out->index) < 0) fprintf(stderr, "ei_send failed\n");
}

int main(int argc, char **argv) {
  if (argc != 4 || !strchr(argv[1], '@')) {
    fprintf(stderr, "usage: %s ALIVE@HOST COOKIE NAME\n", argv[0]);
    return 2;
  }
  char alive[256], *host = strchr(argv[1], '@') + 1;
  snprintf(alive, sizeof alive, "%.*s", (int)(host - 1 - argv[1]), argv[1]);
  struct in_addr loopback = {htonl(INADDR_LOOPBACK)};
  ei_cnode ec;
  int port = 0, lfd, n = 1;
  struct pollfd fds[64];
  ei_x_buff in, out;
  erlang_msg msg;
  tab = calloc(cap, sizeof *tab);
  if (ei_init() || ei_connect_xinit(&ec, host, alive, argv[1], &loopback, argv[2], 0) < 0 ||
      (lfd = ei_xlisten(&ec, &loopback, &port, 16)) < 0 || ei_publish(&ec, port) < 0) {
    fprintf(stderr, "ei_kv_node: cannot set up %s (erl_errno %d)\n", argv[1], erl_errno);
    return 1;
  }
  ei_x_new(&in);
  ei_x_new(&out);
  fds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
  for (;;) {
    if (poll(fds, n, -1) < 0) continue;
    if ((fds[0].revents & POLLIN) && n < 64) {
      ErlConnect conn;
      int fd = ei_accept(&ec, lfd, &conn);
      if (fd >= 0) fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
    }
    for (int c = 1; c < n; c++) {
      if (!fds[c].revents) continue;
      int r = ei_xreceive_msg(fds[c].fd, &msg, &in);
      /* The peer went away, or sent a control message ei does not know: drop the connection. */
      if (r == ERL_ERROR && erl_errno != EAGAIN) {
        fprintf(stderr, "ei_kv_node: connection closed (erl_errno %d)\n", erl_errno);
        ei_close_connection(fds[c].fd);
        fds[c--] = fds[--n];
      } else if (r == ERL_MSG && (msg.msgtype == ERL_SEND || msg.msgtype == ERL_REG_SEND)) {
        int reg = msg.msgtype == ERL_REG_SEND; /* ei reports the _TT forms as these */
        if (reg && !strcmp(msg.toname, "net_kernel")) handle(fds[c].fd, in.buff, 1, &out);
        else if (!reg || !strcmp(msg.toname, argv[3])) handle(fds[c].fd, in.buff, 0, &out);
      }
    }
  }
}
