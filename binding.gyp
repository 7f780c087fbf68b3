{
  "targets": [
    {
      "target_name": "ampio_can",
      "sources": ["src/backends/socketcan/native/ampio_can.c"],
      "cflags": ["-std=gnu11", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
