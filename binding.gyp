# stackd native TAP binding: builds native/tap.c (plain N-API, no dependencies) into
# build/Release/stackd_tap.node. Linux only (uses /dev/net/tun, eventfd, poll).
{
  "targets": [
    {
      "target_name": "stackd_tap",
      "sources": ["native/tap.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
