{
  "targets": [
    {
      "target_name": "twinlease_net",
      "sources": ["twinlease_net.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
