{
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-O2"],
    "cflags!": ["-fno-exceptions", "-O2"],
    "conditions": [
      ["OS!='win'", {"cflags": ["-fPIC"]}],
      ["OS=='mac'", {
        "xcode_settings": {
          "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
          "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
          "GCC_OPTIMIZATION_LEVEL": "3",
          "MACOSX_DEPLOYMENT_TARGET": "10.15"
        }
      }],
      ["OS=='win'", {
        "msvs_settings": {
          "VCCLCompilerTool": {"ExceptionHandling": 1, "Optimization": 2, "AdditionalOptions": ["/std:c++17"]}
        }
      }]
    ]
  },
  "targets": [
    {
      "target_name": "torchrnn_kernels_portable",
      "type": "static_library",
      "cflags": [],
      "sources": [
        "native/kernels/portable.cpp"
      ]
    },
    {
      "target_name": "torchrnn",
      "dependencies": ["torchrnn_kernels_portable"],
      "conditions": [
        ["target_arch=='x64'", {"dependencies": ["torchrnn_kernels_avx2", "torchrnn_kernels_avx2_f16c", "torchrnn_kernels_avx512", "torchrnn_kernels_avx512_vnni", "torchrnn_kernels_avx512_bf16"]}],
        ["target_arch=='arm64'", {"dependencies": ["torchrnn_kernels_neon"]}]
      ],
      "sources": [
        "native/kernels/cpu_features.cpp",
        "native/kernels/dispatch.cpp",
        "native/kernels/packing.cpp",
        "native/kernels/reduced_kernels.cpp",
        "native/kernels/reduced_precision.cpp",
        "native/engine/dropout.cpp",
        "native/engine/forward.cpp",
        "native/engine/linear.cpp",
        "native/engine/model_spec.cpp",
        "native/engine/packed_matrix.cpp",
        "native/engine/packed_weights.cpp",
        "native/engine/scratch_pool.cpp",
        "native/engine/sequence_layout.cpp",
        "native/engine/thread_pool.cpp",
        "native/engine/workspace.cpp",
        "native/binding/addon.cpp",
        "native/binding/engine_settings.cpp",
        "native/binding/forward_args.cpp",
        "native/binding/forward_worker.cpp",
        "native/binding/js_errors.cpp",
        "native/binding/js_values.cpp",
        "native/binding/model_spec_args.cpp",
        "native/binding/packed_linear.cpp",
        "native/binding/packed_model.cpp",
        "native/binding/quantize_weights.cpp",
        "native/binding/result_buffers.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "torchrnn_kernels_avx2",
          "type": "static_library",
          "cflags": ["-mavx2", "-mfma"],
          "sources": [
            "native/kernels/avx2_kernels.cpp",
            "native/kernels/avx2_reduced_kernels.cpp"
          ]
        },
        {
          "target_name": "torchrnn_kernels_avx2_f16c",
          "type": "static_library",
          "cflags": ["-mavx2", "-mfma", "-mf16c"],
          "sources": [
            "native/kernels/avx2_f16c_reduced_kernels.cpp"
          ]
        },
        {
          "target_name": "torchrnn_kernels_avx512",
          "type": "static_library",
          "cflags": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"],
          "sources": [
            "native/kernels/avx512_kernels.cpp",
            "native/kernels/avx512_reduced_kernels.cpp"
          ]
        },
        {
          "target_name": "torchrnn_kernels_avx512_vnni",
          "type": "static_library",
          "cflags": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512vnni", "-mavx2", "-mfma"],
          "sources": [
            "native/kernels/avx512_vnni_kernels.cpp"
          ]
        },
        {
          "target_name": "torchrnn_kernels_avx512_bf16",
          "type": "static_library",
          "cflags": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512bf16", "-mavx2", "-mfma"],
          "sources": [
            "native/kernels/avx512_bf16_kernels.cpp"
          ]
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "torchrnn_kernels_neon",
          "type": "static_library",
          "cflags": [],
          "sources": [
            "native/kernels/neon_kernels.cpp"
          ]
        }
      ]
    }]
  ]
}
