{
  "targets": [
    {
      "target_name": "kernels",
      "sources": ["kernels.c"],
      "cflags": ["-O3", "-ffp-contract=off"]
    }
  ]
}
