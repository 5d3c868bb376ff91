#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")"

# --- mp4 ---
# MP4 inputs for the PutMedia MP4 converter (src/ingest/mp4). 5 s testsrc 640x360 30 fps, 1 s GOP,
# 440 Hz sine 48 kHz; bitexact flags and no metadata so reruns with the same ffmpeg give the same bytes.
mkdir -p mp4
MP4_V="-f lavfi -i testsrc=size=640x360:rate=30:duration=5"
MP4_A="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=5"
MP4_X="-c:v libx264 -preset veryfast -profile:v baseline -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -bf 0"
MP4_B="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"
MP4_FRAG="-movflags frag_keyframe+empty_moov+default_base_moof"
mp4_ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# shellcheck disable=SC2086 # the option strings above are meant to split into words
{
  mp4_ff $MP4_V $MP4_X $MP4_B $MP4_FRAG mp4/h264-frag.mp4
  mp4_ff $MP4_V $MP4_X $MP4_B -movflags +faststart mp4/h264-progressive-faststart.mp4
  mp4_ff $MP4_V $MP4_X $MP4_B mp4/h264-progressive-moov-at-end.mp4
  mp4_ff $MP4_V $MP4_A $MP4_X -c:a aac -b:a 64k -shortest $MP4_B $MP4_FRAG mp4/h264-aac-frag.mp4
  mp4_ff $MP4_V $MP4_A $MP4_X -c:a aac -b:a 64k -shortest $MP4_B mp4/h264-aac-progressive.mp4
  mp4_ff $MP4_V -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -bf 2 \
    $MP4_B mp4/h264-bframes-progressive.mp4
  mp4_ff $MP4_V -c:v libx265 -preset veryfast -pix_fmt yuv420p \
    -x265-params keyint=30:min-keyint=30:scenecut=0:bframes=0:log-level=error -tag:v hvc1 $MP4_B $MP4_FRAG mp4/hevc-frag.mp4
  mp4_ff $MP4_A -c:a aac -b:a 64k $MP4_B mp4/aac-audio-only.mp4
  mp4_ff $MP4_A -c:a libopus -b:a 32k $MP4_B -movflags +faststart mp4/opus-audio-only.mp4
}
# --- end mp4 ---

# --- mkv ---
# MKV inputs for PutMedia: one cluster per 1 s GOP (the cluster limits keep GOPs whole even when piped).
mkdir -p mkv
MKV_V="-f lavfi -i testsrc=size=640x360:rate=30:duration=5"
MKV_A="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=5"
MKV_X="-c:v libx264 -preset veryfast -profile:v baseline -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -bf 0"
MKV_C="-cluster_time_limit 1100 -cluster_size_limit 8000000"
MKV_B="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"
mkv_ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# shellcheck disable=SC2086
{
  mkv_ff $MKV_V $MKV_X $MKV_C $MKV_B -f matroska mkv/h264-5s-1s-gop.mkv
  mkv_ff $MKV_V $MKV_A $MKV_X -c:a libopus -b:a 32k -shortest $MKV_C $MKV_B -f matroska mkv/h264-opus-5s.mkv
  # The same H.264 clip piped (unknown-size Segment and Clusters, as a live producer writes it).
  mkv_ff $MKV_V $MKV_X $MKV_C $MKV_B -f matroska - > mkv/h264-5s-piped.mkv
}
# --- end mkv ---

# --- packaging ---
# MKV inputs for the fMP4 packager (src/packaging/fmp4.ts), same picture and cluster limits as the mkv block:
# one 1 s GOP per Cluster. AAC next to H.264, HEVC, and H.264 with B-frames (Main, 2 B-frames, so block
# timecodes are out of order and decode times must be derived).
mkdir -p mkv
PKG_V="-f lavfi -i testsrc=size=640x360:rate=30:duration=5"
PKG_A="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=5"
PKG_C="-cluster_time_limit 1100 -cluster_size_limit 8000000"
PKG_B="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"
PKG_G="-g 30 -keyint_min 30 -sc_threshold 0"
pkg_ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# shellcheck disable=SC2086
{
  pkg_ff $PKG_V $PKG_A -c:v libx264 -preset veryfast -profile:v baseline -pix_fmt yuv420p $PKG_G -bf 0 \
    -c:a aac -b:a 64k -shortest $PKG_C $PKG_B -f matroska mkv/h264-aac-5s.mkv
  pkg_ff $PKG_V -c:v libx265 -preset veryfast -pix_fmt yuv420p $PKG_G \
    -x265-params keyint=30:min-keyint=30:scenecut=0:bframes=0:log-level=error $PKG_C $PKG_B -f matroska mkv/hevc-5s.mkv
  pkg_ff $PKG_V -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p $PKG_G -bf 2 \
    $PKG_C $PKG_B -f matroska mkv/h264-bframes-5s.mkv
}
# --- end packaging ---
