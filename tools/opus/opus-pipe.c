/* opus-pipe: native libopus on the command line, for the interop tests and the benchmark.
 * 48 kHz mono, 20 ms frames (960 samples), OPUS_APPLICATION_VOIP.
 *
 *   opus-pipe encode BITRATE COMPLEXITY   f32le PCM on stdin -> packets on stdout
 *   opus-pipe decode                      packets on stdin   -> f32le PCM on stdout
 *   opus-pipe bench FILE BITRATE COMPLEXITY
 *       encodes FILE (f32le PCM) frame by frame, then decodes the packets, and prints one JSON
 *       line: {"version","encodeSeconds","decodeSeconds","audioSeconds","bytes"} (CPU time of
 *       this process, so startup and file reading are not counted)
 *
 * Packets are framed as a 2-byte big-endian length, then the bytes; length 0 is a lost packet,
 * which decode conceals (PLC). A partial last frame of PCM is zero-padded.
 * Built against any libopus: Debian's (pkg-config opus) or tools/opus/build.sh native's prefix.
 */
#include <opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { FRAME = 960, MAX_PACKET = 1275 * 3 + 7, MAX_FRAME = 5760 };

static int die(const char *what, int status) {
  fprintf(stderr, "opus-pipe: %s: %s\n", what, status ? opus_strerror(status) : "failed");
  return 1;
}

static OpusEncoder *make_encoder(int bitrate, int complexity) {
  int status = 0;
  OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &status);
  if (status != OPUS_OK) {
    die("opus_encoder_create", status);
    return NULL;
  }
  if ((status = opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate))) != OPUS_OK ||
      (status = opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity))) != OPUS_OK) {
    die("opus_encoder_ctl", status);
    opus_encoder_destroy(enc);
    return NULL;
  }
  return enc;
}

/* Reads up to one frame; returns 0 at the end, else 1 (a short frame is zero-padded). */
static int read_frame(FILE *in, float *pcm) {
  size_t n = fread(pcm, sizeof(float), FRAME, in);
  if (n == 0) return 0;
  memset(pcm + n, 0, (FRAME - n) * sizeof(float));
  return 1;
}

static int encode(int bitrate, int complexity) {
  OpusEncoder *enc = make_encoder(bitrate, complexity);
  if (!enc) return 1;
  float pcm[FRAME];
  unsigned char packet[MAX_PACKET + 2];
  while (read_frame(stdin, pcm)) {
    int n = opus_encode_float(enc, pcm, FRAME, packet + 2, MAX_PACKET);
    if (n < 0) return die("opus_encode_float", n);
    packet[0] = (unsigned char)(n >> 8);
    packet[1] = (unsigned char)n;
    fwrite(packet, 1, (size_t)n + 2, stdout);
  }
  opus_encoder_destroy(enc);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int decode(void) {
  int status = 0;
  OpusDecoder *dec = opus_decoder_create(48000, 1, &status);
  if (status != OPUS_OK) return die("opus_decoder_create", status);
  unsigned char head[2], packet[MAX_PACKET];
  static float pcm[MAX_FRAME];
  while (fread(head, 1, 2, stdin) == 2) {
    int len = head[0] << 8 | head[1];
    if (len > MAX_PACKET || fread(packet, 1, (size_t)len, stdin) != (size_t)len) {
      fprintf(stderr, "opus-pipe: truncated or oversized packet\n");
      return 1;
    }
    int n = len ? opus_decode_float(dec, packet, len, pcm, MAX_FRAME, 0)
                : opus_decode_float(dec, NULL, 0, pcm, FRAME, 0);
    if (n < 0) return die("opus_decode_float", n);
    fwrite(pcm, sizeof(float), (size_t)n, stdout);
  }
  opus_decoder_destroy(dec);
  return fflush(stdout) == 0 ? 0 : 1;
}

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int bench(const char *file, int bitrate, int complexity) {
  FILE *in = fopen(file, "rb");
  if (!in) {
    perror(file);
    return 1;
  }
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  fseek(in, 0, SEEK_SET);
  int frames = (int)(size / (long)sizeof(float) / FRAME);
  float *pcm = malloc((size_t)frames * FRAME * sizeof(float));
  unsigned char *packets = malloc((size_t)frames * MAX_PACKET);
  int *lengths = malloc((size_t)frames * sizeof(int));
  float out[MAX_FRAME];
  if (!pcm || !packets || !lengths ||
      fread(pcm, sizeof(float), (size_t)frames * FRAME, in) != (size_t)frames * FRAME) {
    fprintf(stderr, "opus-pipe: cannot read %s\n", file);
    return 1;
  }
  fclose(in);
  OpusEncoder *enc = make_encoder(bitrate, complexity);
  int status = 0;
  OpusDecoder *dec = opus_decoder_create(48000, 1, &status);
  if (!enc || status != OPUS_OK) return 1;
  long bytes = 0;
  double t0 = cpu_seconds();
  for (int i = 0; i < frames; i++) {
    lengths[i] = opus_encode_float(enc, pcm + (size_t)i * FRAME, FRAME,
                                   packets + (size_t)i * MAX_PACKET, MAX_PACKET);
    if (lengths[i] < 0) return die("opus_encode_float", lengths[i]);
    bytes += lengths[i];
  }
  double t1 = cpu_seconds();
  for (int i = 0; i < frames; i++) {
    int n = opus_decode_float(dec, packets + (size_t)i * MAX_PACKET, lengths[i], out, MAX_FRAME, 0);
    if (n != FRAME) return die("opus_decode_float", n < 0 ? n : 0);
  }
  double t2 = cpu_seconds();
  printf("{\"version\":\"%s\",\"encodeSeconds\":%.6f,\"decodeSeconds\":%.6f,\"audioSeconds\":%.3f,"
         "\"bytes\":%ld}\n",
         opus_get_version_string(), t1 - t0, t2 - t1, frames * (double)FRAME / 48000, bytes);
  opus_encoder_destroy(enc);
  opus_decoder_destroy(dec);
  free(pcm);
  free(packets);
  free(lengths);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "encode") == 0) return encode(atoi(argv[2]), atoi(argv[3]));
  if (argc == 2 && strcmp(argv[1], "decode") == 0) return decode();
  if (argc == 5 && strcmp(argv[1], "bench") == 0)
    return bench(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (argc == 2 && strcmp(argv[1], "version") == 0) {
    puts(opus_get_version_string());
    return 0;
  }
  fprintf(stderr,
          "usage: opus-pipe encode BITRATE COMPLEXITY | decode | bench FILE BITRATE COMPLEXITY | "
          "version\n");
  return 2;
}
