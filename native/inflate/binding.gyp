{
  "targets": [
    {
      "target_name": "inflate",
      "sources": ["inflate.c"],
      "libraries": ["-ldeflate"],
      "cflags": ["-O2"]
    }
  ]
}
