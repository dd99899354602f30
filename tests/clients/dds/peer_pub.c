/*
 * A ROS 2-style DDS camera for the tests, built from ros2_types.idl with Debian's idlc and gcc: it shares no code
 * with the engine. It publishes recorded frames as a ROS 2 camera driver does.
 * Usage: peer_pub PREFIX FRAMES.bgr WIDTH HEIGHT COUNT FPS [DEPTH.u16] [ENCODING]
 *   PREFIX/image_raw    sensor_msgs/Image (bgr8, or ENCODING: rgb8, mono8 converted from the BGR frames)
 *   PREFIX/camera_info  sensor_msgs/CameraInfo (fx = fy = WIDTH, centre), same stamp
 *   PREFIX/depth        sensor_msgs/Image 16UC1 millimetres from DEPTH.u16, same stamp (when given)
 * FRAMES.bgr holds frames of WIDTH*HEIGHT*3 bytes, replayed in turn for COUNT frames; frame i is stamped
 * sec = 1000 + i, nanosec = 1000 * i (with STAMP_NOW in the environment: the wall clock when sent), frame id "peer_optical_frame". It waits up to 20 s for a subscriber, prints
 * "published N" and exits; SIGKILL it to make the camera vanish.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dds/dds.h"
#include "ros2_types.h"

static unsigned char *slurp(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb"); if (!f) return NULL;
  fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)n); if (fread(b, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(b); return NULL; }
  fclose(f); *size = (size_t)n; return b;
}

static dds_entity_t writer(dds_entity_t pp, const dds_topic_descriptor_t *desc, const char *prefix, const char *name)
{
  char topic[300]; snprintf(topic, sizeof topic, "rt%s/%s", prefix, name);
  dds_entity_t tp = dds_create_topic(pp, desc, topic, NULL, NULL);
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 5);
  dds_entity_t w = dds_create_writer(pp, tp, q, NULL);
  dds_delete_qos(q);
  return w;
}

int main(int argc, char **argv)
{
  if (argc < 7) { fprintf(stderr, "usage: peer_pub PREFIX FRAMES.bgr WIDTH HEIGHT COUNT FPS [DEPTH.u16] [ENCODING]\n"); return 2; }
  const char *prefix = argv[1]; unsigned w = (unsigned)atoi(argv[3]), h = (unsigned)atoi(argv[4]);
  int count = atoi(argv[5]); double fps = atof(argv[6]);
  const char *encoding = argc > 8 ? argv[8] : "bgr8";
  int stamp_now = getenv("STAMP_NOW") != NULL;
  size_t nframes_bytes = 0, ndepth_bytes = 0;
  unsigned char *frames = slurp(argv[2], &nframes_bytes);
  unsigned char *depth = argc > 7 && strcmp(argv[7], "-") ? slurp(argv[7], &ndepth_bytes) : NULL;
  if (!frames) { fprintf(stderr, "cannot read %s\n", argv[2]); return 1; }
  size_t frame_bytes = (size_t)w * h * 3; int nframes = (int)(nframes_bytes / frame_bytes);
  int ndepth = depth ? (int)(ndepth_bytes / ((size_t)w * h * 2)) : 0;
  int domain = getenv("ROS_DOMAIN_ID") ? atoi(getenv("ROS_DOMAIN_ID")) : 0;
  dds_entity_t pp = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  dds_entity_t wi = writer(pp, &sensor_msgs_msg_dds__Image__desc, prefix, "image_raw");
  dds_entity_t wc = writer(pp, &sensor_msgs_msg_dds__CameraInfo__desc, prefix, "camera_info");
  dds_entity_t wd = depth ? writer(pp, &sensor_msgs_msg_dds__Image__desc, prefix, "depth") : 0;
  dds_time_t deadline = dds_time() + DDS_SECS(20);
  for (;;) {
    dds_publication_matched_status_t st; dds_get_publication_matched_status(wi, &st);
    if (st.current_count > 0) break;
    if (dds_time() > deadline) { fprintf(stderr, "no subscriber\n"); return 1; }
    dds_sleepfor(DDS_MSECS(20));
  }
  dds_sleepfor(DDS_MSECS(300)); /* the companions' readers match too */
  unsigned channels = !strcmp(encoding, "mono8") ? 1 : 3;
  unsigned char *pixels = malloc(frame_bytes);
  for (int i = 0; i < count; i++) {
    const unsigned char *bgr = frames + (size_t)(i % nframes) * frame_bytes;
    for (size_t p = 0; p < (size_t)w * h; p++) {
      if (channels == 1) pixels[p] = (unsigned char)((bgr[3 * p] * 29 + bgr[3 * p + 1] * 150 + bgr[3 * p + 2] * 77) >> 8);
      else if (!strcmp(encoding, "rgb8")) { pixels[3 * p] = bgr[3 * p + 2]; pixels[3 * p + 1] = bgr[3 * p + 1]; pixels[3 * p + 2] = bgr[3 * p]; }
      else memcpy(pixels + 3 * p, bgr + 3 * p, 3);
    }
    builtin_interfaces_msg_dds__Time_ stamp = { 1000 + i, (uint32_t)(1000 * i) };
    if (stamp_now) { dds_time_t t = dds_time(); stamp.sec = (int32_t)(t / DDS_NSECS_IN_SEC); stamp.nanosec = (uint32_t)(t % DDS_NSECS_IN_SEC); }
    sensor_msgs_msg_dds__Image_ img = { { stamp, "peer_optical_frame" }, h, w, (char *)encoding, 0, w * channels,
                                        { (uint32_t)(w * h * channels), (uint32_t)(w * h * channels), pixels, false } };
    double k[9] = { w, 0, w / 2.0, 0, w, h / 2.0, 0, 0, 1 };
    double r[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    double p[12] = { w, 0, w / 2.0, 0, 0, w, h / 2.0, 0, 0, 0, 1, 0 };
    double d[5] = { 0, 0, 0, 0, 0 };
    sensor_msgs_msg_dds__CameraInfo_ info = { { stamp, "peer_optical_frame" }, h, w, "plumb_bob", { 5, 5, d, false }, {0}, {0}, {0}, 0, 0, { 0, 0, 0, 0, false } };
    memcpy(info.k, k, sizeof k); memcpy(info.r, r, sizeof r); memcpy(info.p, p, sizeof p);
    dds_write(wc, &info);
    if (depth) {
      sensor_msgs_msg_dds__Image_ dimg = { { stamp, "peer_optical_frame" }, h, w, "16UC1", 0, w * 2,
                                           { w * h * 2, w * h * 2, depth + (size_t)(i % ndepth) * w * h * 2, false } };
      dds_write(wd, &dimg);
    }
    dds_write(wi, &img);
    dds_sleepfor((dds_duration_t)(1e9 / fps));
  }
  dds_sleepfor(DDS_MSECS(500));
  printf("published %d\n", count); fflush(stdout);
  dds_delete(pp);
  free(pixels); free(frames); free(depth);
  return 0;
}
