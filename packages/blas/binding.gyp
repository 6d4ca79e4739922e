{
  "targets": [
    {
      "target_name": "flotilla_blas",
      "sources": ["native/flotilla_blas.c"],
      "libraries": ["-ldl", "-lpthread", "-lm"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
