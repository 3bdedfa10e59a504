{
  "targets": [
    {
      "target_name": "directio",
      "sources": ["directio.c"],
      "cflags": ["-O2"]
    }
  ]
}
