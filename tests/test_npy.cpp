#include <cstdio>
#include <fstream>

#include "tests/test_util.h"
#include "weights/npy.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("npy: round trip of every dtype and a non-contiguous view") {
  const std::string path = "/tmp/stylegrad_test_npy.npy";
  Tensor x = arange(0, 24, 1, DType::f64).reshape({2, 3, 4}).permute({2, 0, 1});
  write_npy(path, x);
  check_close(read_npy(path), x.contiguous(), 0, 0);
  write_npy(path, x.to(DType::f32));
  CHECK(read_npy(path).dtype() == DType::f32);
  write_npy(path, from_vector({3, -1}, {2}, DType::i64));
  CHECK(read_npy(path).to_vector() == std::vector<double>{3, -1});
  write_npy(path, scalar_tensor(2.5));
  CHECK(read_npy(path).dim() == 0);
  std::remove(path.c_str());
}

TEST_CASE("npy: numpy can read what we write (header layout)") {
  const std::string path = "/tmp/stylegrad_test_npy2.npy";
  write_npy(path, zeros({5}));
  std::ifstream f(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(all.size() == 128 + 20);  // header padded to a multiple of 64 bytes
  CHECK(all.find("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }") == 10);
  std::remove(path.c_str());
}

TEST_CASE("npy: corrupt files give one clear error") {
  const std::string path = "/tmp/stylegrad_test_npy3.npy";
  write_npy(path, zeros({4, 4}));
  std::string all;
  {
    std::ifstream f(path, std::ios::binary);
    all.assign((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  {
    std::ofstream f(path, std::ios::binary);
    f << all.substr(0, all.size() - 3);  // truncated data
  }
  CHECK(error_of([&] { read_npy(path); }).find("data size does not match") != std::string::npos);
  {
    std::ofstream f(path, std::ios::binary);
    f << "garbage";
  }
  CHECK(error_of([&] { read_npy(path); }).find("not a valid .npy file") != std::string::npos);
  CHECK(error_of([&] { read_npy("/tmp/does/not/exist.npy"); }).find("no such file") != std::string::npos);
  std::remove(path.c_str());
}
