#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "tensor/error.h"
#include "tests/test_util.h"
#include "weights/float16.h"
#include "weights/json.h"
#include "weights/safetensors.h"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string u64_le(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xFF);
  return out;
}

// A file made by hand: the header length (the header's own by default), the header, the data.
std::string file_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

// The error reading `path` gives, checked to be one line that names the file.
std::string read_error(const std::string& path) {
  const std::string e = error_of([&] { read_safetensors(path); });
  CHECK_MESSAGE(e.rfind("safetensors: " + path + ": ", 0) == 0, e);
  CHECK_MESSAGE(e.find('\n') == std::string::npos, e);
  return e;
}

const Tensor& find(const NamedTensors& tensors, const std::string& name) {
  for (const auto& entry : tensors)
    if (entry.first == name) return entry.second;
  FAIL("no tensor ", name);
  static Tensor none;
  return none;
}

std::string dtypes_file() { return std::string(STYLEGRAD_SOURCE_DIR) + "/tests/reference/safetensors_dtypes.safetensors"; }

}  // namespace

TEST_CASE("safetensors: round trip of every dtype, scalars, empty tensors, views and metadata") {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  Generator g(3);
  const Tensor f32 = randn({2, 3}, g);
  const Tensor f64 = randn({4}, g, DType::f64);
  const Tensor i64 = from_vector({-3, 0, 1099511627776.0, -4611686018427387904.0}, {2, 2}, DType::i64);
  const Tensor mask = gt(from_vector({1, -1, 2}, {3}), 0.0);
  const Tensor scalar = scalar_tensor(2.5);
  const Tensor empty_rows = zeros({0, 3});
  const Tensor transposed = randn({3, 2}, g).t();  // a non-contiguous view
  const SafetensorsMetadata metadata = {{"format", "pt"}, {"note", "line one\nline \"two\" \xC3\xA9"}};
  write_safetensors(path,
                    {{"f32", f32}, {"f64", f64}, {"i64", i64}, {"mask", mask}, {"scalar", scalar},
                     {"empty", empty_rows}, {"transposed", transposed}},
                    metadata);
  CHECK(dir.entries().size() == 1);  // no temporary file left behind

  // Layout: the header is padded to a multiple of 8 and the data follows it exactly.
  const std::string bytes = read_bytes(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  CHECK(header_len % 8 == 0);
  CHECK(bytes.size() == 8 + header_len + (6 * 4 + 4 * 8 + 4 * 8 + 3 + 4 + 0 + 6 * 4));

  const NamedTensors back = read_safetensors(path, DType::f64);
  REQUIRE(back.size() == 7);
  const char* order[] = {"f32", "f64", "i64", "mask", "scalar", "empty", "transposed"};
  for (size_t i = 0; i < back.size(); ++i) CHECK(back[i].first == order[i]);
  CHECK(find(back, "f32").dtype() == DType::f64);  // floats become the requested dtype
  check_close(find(back, "f32"), f32.to(DType::f64), 0, 0);
  check_close(find(back, "f64"), f64, 0, 0);
  CHECK(find(back, "i64").dtype() == DType::i64);
  CHECK(find(back, "i64").data<int64_t>()[3] == -4611686018427387904LL);
  CHECK(find(back, "mask").dtype() == DType::b8);
  CHECK(find(back, "mask").to_vector() == std::vector<double>{1, 0, 1});
  CHECK(find(back, "scalar").dim() == 0);
  CHECK(find(back, "scalar").item() == 2.5);
  CHECK(find(back, "empty").shape() == Shape{0, 3});
  check_close(find(back, "transposed"), transposed.to(DType::f64), 0, 0);

  const NamedTensors as_f32 = read_safetensors(path);
  CHECK(find(as_f32, "f64").dtype() == DType::f32);
  check_close(find(as_f32, "f64"), f64.to(DType::f32), 0, 0);
  CHECK(read_safetensors_metadata(path) == metadata);
}

TEST_CASE("safetensors: writing replaces a file only when complete") {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  write_safetensors(path, {{"a", ones({2})}});
  write_safetensors(path, {{"b", zeros({3})}});  // overwrites
  NamedTensors back = read_safetensors(path);
  REQUIRE(back.size() == 1);
  CHECK(back[0].first == "b");
  CHECK(read_safetensors_metadata(path).empty());

  // Failures leave the existing file untouched and no temporary file behind.
  const std::string before = read_bytes(path);
  CHECK(error_of([&] { write_safetensors(path, {{"x", ones({1})}, {"x", ones({1})}}); }) ==
        "safetensors: " + path + ": two tensors are named \"x\"");
  CHECK(error_of([&] { write_safetensors(path, {{"__metadata__", ones({1})}}); }) ==
        "safetensors: " + path + ": a tensor cannot be named \"__metadata__\"");
  CHECK(error_of([&] { write_safetensors(path, {{"u", Tensor()}}); }) ==
        "safetensors: " + path + ": tensor \"u\" is undefined");
  CHECK(read_bytes(path) == before);
  CHECK(dir.entries().size() == 1);

  const std::string nowhere = dir.file("missing-dir/w.safetensors");
  CHECK(error_of([&] { write_safetensors(nowhere, {{"a", ones({1})}}); })==
        "safetensors: " + nowhere + ": directory '" + dir.file("missing-dir") + "' does not exist");
}

TEST_CASE("safetensors: 16-bit floats widen exactly") {
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0xC100) == -2.5f);
  CHECK(half_to_float(0x7BFF) == 65504.0f);                // largest
  CHECK(half_to_float(0x0400) == std::ldexp(1.0f, -14));   // smallest normal
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));   // smallest subnormal
  CHECK(half_to_float(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(std::signbit(half_to_float(0x8000)));              // -0
  CHECK(half_to_float(0x7C00) == INFINITY);
  CHECK(half_to_float(0xFC00) == -INFINITY);
  CHECK(std::isnan(half_to_float(0x7E00)));
  CHECK(bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(bfloat16_to_float(0xC020) == -2.5f);
  CHECK(bfloat16_to_float(0x0001) == std::ldexp(1.0f, -133));  // subnormal
  CHECK(bfloat16_to_float(0xFF80) == -INFINITY);
  CHECK(std::isnan(bfloat16_to_float(0x7FC0)));
}

TEST_CASE("safetensors: reads a file written by PyTorch (F16, BF16, F32, F64, I64, BOOL)") {
  const NamedTensors t = read_safetensors(dtypes_file(), DType::f64);
  // Every 16-bit value is compared with torch's own float64 conversion of it.
  // (== on the values: exact, and also right for the infinities in them)
  CHECK(find(t, "f16").to_vector() == find(t, "f16_as_f64").to_vector());
  CHECK(find(t, "bf16").to_vector() == find(t, "bf16_as_f64").to_vector());
  CHECK(std::signbit(find(t, "f16").to_vector()[1]));  // -0 stays -0
  CHECK(std::isnan(find(t, "f16_nan").item()));
  CHECK(std::isnan(find(t, "bf16_nan").item()));
  check_close(find(t, "f32"), find(t, "f32_as_f64"), 0, 0);
  CHECK(find(t, "f64").shape() == Shape{4});
  const Tensor& i64 = find(t, "i64");
  REQUIRE(i64.dtype() == DType::i64);
  const int64_t* v = i64.data<int64_t>();
  CHECK(v[0] == -3);
  CHECK(v[2] == (int64_t(1) << 40));
  CHECK(v[3] == -(int64_t(1) << 62));
  CHECK(v[5] == std::numeric_limits<int64_t>::max());
  CHECK(find(t, "bool").to_vector() == std::vector<double>{1, 0, 1});
  CHECK(find(t, "scalar").item() == 2.5);
  CHECK(find(t, "empty").shape() == Shape{0, 3});

  // Reading as float32 rounds the float64 copies, and leaves the 16-bit values exact.
  const NamedTensors f32 = read_safetensors(dtypes_file());
  CHECK(find(f32, "f16").dtype() == DType::f32);
  CHECK(find(f32, "f16").to_vector() == find(t, "f16_as_f64").to_vector());

  const SafetensorsMetadata m = read_safetensors_metadata(dtypes_file());
  CHECK(m.at("format") == "pt");
  CHECK(m.at("unicode") == "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80");  // written as \u escapes by Python
}

TEST_CASE("safetensors: hostile files are one clear error each, never a crash") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  const std::string f32x2 = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  const std::string eight_bytes(8, '\0');
  struct Bad {
    std::string what;
    std::string bytes;
    std::string error;  // expected after "safetensors: <path>: "
  };
  const Bad cases[] = {
      {"empty file", "", "file is 0 bytes, too short for the 8-byte header length"},
      {"7 bytes", "1234567", "file is 7 bytes, too short for the 8-byte header length"},
      {"header longer than the file", u64_le(100) + "{}", "header length 100 is larger than the rest of the file (2 bytes)"},
      {"absurd header length", u64_le(uint64_t(1) << 63) + "{}",
       "header length 9223372036854775808 exceeds the limit of 100000000 bytes"},
      {"bad JSON", file_bytes(R"({"x":{)", ""), "header is not valid JSON: json: unexpected end of text at byte 6"},
      {"deeply nested JSON", file_bytes(std::string(100000, '['), ""),
       "header is not valid JSON: json: nesting deeper than 64 levels at byte 64"},
      {"header not an object", file_bytes("[1]", ""), "header must be a JSON object"},
      {"truncated data", file_bytes("{\"x\":{" + f32x2 + "}}", "1234"),
       "tensor \"x\": data_offsets [0, 8] run past the end of the data (4 bytes)"},
      {"offsets past the end", file_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", eight_bytes),
       "tensor \"x\": data_offsets [8, 16] run past the end of the data (8 bytes)"},
      {"offsets that overflow", file_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,7]}})", eight_bytes),
       "tensor \"x\": data_offsets [18446744073709551615, 7] end before they begin"},
      {"offsets beyond 64 bits", file_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}})", eight_bytes),
       "tensor \"x\": data_offsets must be a non-negative integer"},
      {"wrong byte count", file_bytes(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight_bytes),
       "tensor \"x\": data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"},
      {"unknown dtype", file_bytes(R"({"x":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", eight_bytes),
       "tensor \"x\": unsupported dtype \"Q7\" (supported: F64, F32, F16, BF16, I64, BOOL)"},
      {"negative size", file_bytes(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight_bytes),
       "tensor \"x\": every shape entry must be a non-negative integer"},
      {"fractional size", file_bytes(R"({"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", eight_bytes),
       "tensor \"x\": every shape entry must be a non-negative integer"},
      {"element count overflow", file_bytes(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", ""),
       "tensor \"x\": shape is too large (element count overflows)"},
      {"overflow behind a zero", file_bytes(R"({"x":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})", ""),
       "tensor \"x\": shape is too large (element count overflows)"},
      {"too many dims", file_bytes(R"({"x":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", "1234"),
       "tensor \"x\": shape has 9 dims, at most 8 are supported"},
      {"duplicate names", file_bytes("{\"x\":{" + f32x2 + "},\"x\":{" + f32x2 + "}}", eight_bytes),
       "header is not valid JSON: json: duplicate key \"x\" at byte 54"},
      {"entry not an object", file_bytes(R"({"x":[1]})", ""), "tensor \"x\": expected an object with dtype, shape, data_offsets"},
      {"missing offsets", file_bytes(R"({"x":{"dtype":"F32","shape":[2]}})", eight_bytes),
       "tensor \"x\": needs dtype, shape and data_offsets"},
      {"unexpected key", file_bytes("{\"x\":{" + f32x2 + ",\"extra\":1}}", eight_bytes), "tensor \"x\": unexpected key \"extra\""},
      {"three offsets", file_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", eight_bytes),
       "tensor \"x\": data_offsets must be an array [begin, end]"},
      {"metadata value not a string", file_bytes(R"({"__metadata__":{"epoch":3}})", ""),
       "__metadata__ value of \"epoch\" is not a string"},
      {"BOOL byte that is not 0 or 1", file_bytes(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", std::string("\x01\x00\x02", 3)),
       "tensor \"m\": BOOL element 2 is 2, not 0 or 1"},
      {"a name with a newline stays on one line", file_bytes("{\"a\\nb\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", "1234"),
       "tensor \"a\\nb\": unsupported dtype \"I32\" (supported: F64, F32, F16, BF16, I64, BOOL)"},
  };
  for (const Bad& bad : cases) {
    INFO(bad.what);
    write_bytes(path, bad.bytes);
    CHECK(read_error(path) == "safetensors: " + path + ": " + bad.error);
  }

  CHECK(read_error(dir.file("missing.safetensors")).find("cannot open") != std::string::npos);
  write_bytes(path, file_bytes("{\"x\":{" + f32x2 + "}}", eight_bytes));
  CHECK(read_safetensors(path).size() == 1);  // the well-formed version of the cases above
  CHECK(error_of([&] { read_safetensors(path, DType::i64); }) ==
        "safetensors: " + path + ": float tensors can be read as float32 or float64, not int64");
}

TEST_CASE("safetensors: every truncation of a valid file is an error") {
  TempDir dir;
  const std::string good = dir.file("good.safetensors"), cut = dir.file("cut.safetensors");
  write_safetensors(good, {{"w", ones({3, 2})}, {"b", zeros({2}, DType::f64)}}, {{"k", "v"}});
  const std::string bytes = read_bytes(good);
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("first ", n, " of ", bytes.size(), " bytes");
    write_bytes(cut, bytes.substr(0, n));
    CHECK(!read_error(cut).empty());
  }
}

TEST_CASE("safetensors: every one-byte corruption is a valid read or an sg::Error") {
  TempDir dir;
  const std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
  write_safetensors(good, {{"w", ones({3, 2})}, {"i", zeros({2}, DType::i64)}, {"m", gt(ones({2}), 0.0)}},
                    {{"k", "v"}});
  const std::string bytes = read_bytes(good);
  int errors = 0;
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (const char replacement : {'\0', '\xff', '"', '9', '[', '{', ' ', '-', '\x02'}) {
      std::string corrupt = bytes;
      corrupt[at] = replacement;
      write_bytes(bad, corrupt);
      try {
        read_safetensors(bad);
        read_safetensors_metadata(bad);
      } catch (const Error&) {
        ++errors;
      } catch (const std::exception& e) {  // e.g. std::bad_alloc from an unchecked size
        FAIL_CHECK("byte ", at, " = ", int(replacement), ": ", e.what());
      }
    }
  }
  CHECK(errors > 0);
}

TEST_CASE("safetensors: the byte ranges must cover the data exactly: no overlap, hole or trailing bytes") {
  TempDir dir;
  const std::string path = dir.file("layout.safetensors");
  auto entry = [](const std::string& name, int n, uint64_t begin) {
    return json::quote(name) + ":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(n) + "],\"data_offsets\":[" +
           std::to_string(begin) + "," + std::to_string(begin + 4 * n) + "]}";
  };
  const std::string sixteen(16, '\0');
  struct Bad {
    std::string what, bytes, error;
  };
  const Bad cases[] = {
      {"overlap", file_bytes("{" + entry("a", 2, 0) + "," + entry("b", 2, 4) + "}", std::string(12, '\0')),
       "tensor \"b\": data_offsets [4, 12] overlap those of \"a\" [0, 8]"},
      {"the same bytes twice", file_bytes("{" + entry("a", 2, 0) + "," + entry("b", 2, 0) + "}", std::string(8, '\0')),
       "tensor \"b\": data_offsets [0, 8] overlap those of \"a\" [0, 8]"},
      {"hole", file_bytes("{" + entry("a", 1, 0) + "," + entry("b", 2, 8) + "}", sixteen),
       "tensor \"b\": data_offsets [8, 16] leave a hole: bytes [4, 8) of the data belong to no tensor"},
      {"data not starting at 0", file_bytes("{" + entry("a", 2, 8) + "}", sixteen),
       "tensor \"a\": data_offsets [8, 16] leave a hole: bytes [0, 8) of the data belong to no tensor"},
      {"trailing bytes", file_bytes("{" + entry("a", 2, 0) + "}", std::string(9, '\0')),
       "the data section has 9 bytes but its tensors end at byte 8: 1 trailing bytes"},
      {"no tensors but data", file_bytes("{}", "x"),
       "the data section has 1 bytes but its tensors end at byte 0: 1 trailing bytes"},
  };
  for (const Bad& bad : cases) {
    INFO(bad.what);
    write_bytes(path, bad.bytes);
    CHECK(read_error(path) == "safetensors: " + path + ": " + bad.error);
    CHECK(error_of([&] { list_safetensors(path); }) == read_error(path));  // listing checks the same
  }
  // Two tensors of one name, each with bytes of its own: the JSON parser refuses the name.
  write_bytes(path, file_bytes("{" + entry("a", 2, 0) + "," + entry("a", 2, 8) + "}", sixteen));
  CHECK(read_error(path).find("header is not valid JSON: json: duplicate key \"a\"") != std::string::npos);
  // Out of file order, with empty tensors anywhere in the sequence: fine.
  write_bytes(path, file_bytes("{" + entry("b", 2, 8) + "," + entry("e", 0, 8) + "," + entry("a", 2, 0) + "," +
                                   entry("z", 0, 16) + "}",
                               sixteen));
  const NamedTensors ok = read_safetensors(path);
  REQUIRE(ok.size() == 4);
  CHECK(ok[0].first == "b");
  CHECK(ok[1].second.numel() == 0);
  // Every file write_safetensors writes follows the rules (header padding is inside the header).
  write_safetensors(path, {{"x", full({3}, 1.0)}, {"e", zeros({0, 2})}, {"i", zeros({2}, TensorOptions(DType::i64))}});
  CHECK(read_safetensors(path).size() == 3);
}

TEST_CASE("safetensors: listing gives the stored dtype (F16 as float16, ...) from the header alone") {
  const StoredTensors listed = list_safetensors(dtypes_file());
  const NamedTensors loaded = read_safetensors(dtypes_file());
  REQUIRE(listed.size() == loaded.size());
  std::set<std::string> dtypes;
  for (size_t i = 0; i < listed.size(); ++i) {
    CHECK(listed[i].name == loaded[i].first);
    CHECK(listed[i].shape == loaded[i].second.shape());
    dtypes.insert(listed[i].dtype);
  }
  CHECK(dtypes == std::set<std::string>{"float16", "bfloat16", "float32", "float64", "int64", "bool"});
}
