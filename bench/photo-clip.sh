#!/usr/bin/env bash
# A real photograph animated with a known camera motion, with sensor noise and H.264 (ffmpeg, libx264):
#   bench/photo-clip.sh PHOTO MOTION OUT.mp4 [FRAMES=90]
# MOTION: static (the flow is zero), pan (2 px a frame to the right), zoom (0.25 % a frame), shake (a hand-held
# wobble of up to 6 px). 640x480, 30 FPS, grain of sigma about 6 grey levels changing every frame, CRF 23.
set -euo pipefail
PHOTO="$1"; MOTION="$2"; OUT="$3"; FRAMES="${4:-90}"
case "$MOTION" in
  static) vf="scale=640:480" ;;
  pan) vf="scale=880:480,crop=640:480:x='2*n':y=0" ;;
  zoom) vf="scale=w='trunc(640*(1+0.0025*n)/2)*2':h='trunc(480*(1+0.0025*n)/2)*2':eval=frame,crop=640:480" ;;
  shake) vf="scale=720:540,crop=640:480:x='40+6*sin(0.9*n)':y='30+4*sin(1.3*n)'" ;;
  *) echo "photo-clip: motion '$MOTION' is unknown: static, pan, zoom or shake" >&2; exit 2 ;;
esac
ffmpeg -loglevel error -y -loop 1 -framerate 30 -i "$PHOTO" -vf "$vf,noise=alls=10:allf=t,format=yuv420p" -frames:v "$FRAMES" \
  -c:v libx264 -preset veryfast -crf 23 "$OUT"
