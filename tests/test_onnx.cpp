// The protobuf reader and the ONNX reader on hand-made bytes (valid and
// malformed), then on real files from Debian's libonnx-testdata when it is
// installed (`make conformance` installs it; `make test` does not need it).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/test_util.h"
#include "onnx/model.h"
#include "onnx/protobuf.h"

using namespace sg;
using namespace sg::test;
namespace pb = sg::protobuf;

namespace {

// ---- a tiny protobuf writer, enough to build test messages ----

std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    if (v) byte |= 0x80;
    out.push_back(char(byte));
  } while (v);
  return out;
}

std::string key(uint32_t field, int wire_type) { return varint((uint64_t(field) << 3) | uint64_t(wire_type)); }
std::string int_field(uint32_t field, int64_t v) { return key(field, 0) + varint(uint64_t(v)); }
std::string bytes_field(uint32_t field, const std::string& payload) {
  return key(field, 2) + varint(payload.size()) + payload;
}
template <class T>
std::string little_endian(T value) {
  std::string out(sizeof value, '\0');
  std::memcpy(&out[0], &value, sizeof value);  // the test machine is little-endian, as the wire format
  return out;
}
std::string float_field(uint32_t field, float v) { return key(field, 5) + little_endian(v); }
std::string double_field(uint32_t field, double v) { return key(field, 1) + little_endian(v); }
std::string packed_varints(uint32_t field, const std::vector<int64_t>& vs) {
  std::string payload;
  for (int64_t v : vs) payload += varint(uint64_t(v));
  return bytes_field(field, payload);
}

// A TensorProto with the given dims and data type; the data fields are appended by the caller.
std::string tensor_proto(const std::vector<int64_t>& dims, onnx::DataType type) {
  return packed_varints(1, dims) + int_field(2, int32_t(type));
}

std::vector<pb::Field> all_fields(std::string_view bytes) {
  pb::Reader r(bytes, "Test");
  std::vector<pb::Field> out;
  pb::Field f;
  while (r.next(f)) out.push_back(f);
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::filesystem::path kNodeTests = "/usr/share/libonnx-testdata/data/node";

}  // namespace

// ---------------- protobuf ----------------

TEST_CASE("protobuf: reads each wire type") {
  const std::string msg = int_field(1, 150) + bytes_field(2, "hi") + float_field(3, 1.5f) +
                          double_field(4, -2.25) + int_field(5, -7) + packed_varints(6, {1, 300, -1});
  const std::vector<pb::Field> f = all_fields(msg);
  REQUIRE(f.size() == 6);
  CHECK(f[0].number == 1);
  CHECK(f[0].as_int64() == 150);
  CHECK(f[1].as_string() == "hi");
  CHECK(f[2].as_float() == 1.5f);
  CHECK(f[3].as_double() == -2.25);
  CHECK(f[4].as_int64() == -7);  // negative numbers are 10-byte varints
  std::vector<int64_t> packed;
  pb::append_varints(f[5], packed);
  pb::append_varints(f[0], packed);  // an unpacked element appends too
  CHECK(packed == std::vector<int64_t>{1, 300, -1, 150});
  CHECK(all_fields("").empty());
}

TEST_CASE("protobuf: malformed input is one clear error, never a crash") {
  CHECK(error_of([] { all_fields("\x08\x96"); }).find("truncated varint at byte 1") != std::string::npos);
  CHECK(error_of([] { all_fields("\x12\x05" "ab"); }).find("needs 5 bytes, only 2 left") != std::string::npos);
  CHECK(error_of([] { all_fields(std::string(11, '\xff') + "\x01"); }).find("longer than 64 bits") !=
        std::string::npos);
  CHECK(error_of([] { all_fields("\x1d" "ab"); }).find("needs 4 bytes") != std::string::npos);  // short fixed32
  CHECK(error_of([] { all_fields("\x0b"); }).find("groups") != std::string::npos);              // wire type 3
  CHECK(error_of([] { all_fields("\x0f"); }).find("invalid wire type 7") != std::string::npos);
  CHECK(error_of([] { all_fields(std::string("\x00\x01", 2)); }).find("invalid field number 0") != std::string::npos);
  // the right bytes read as the wrong type
  const pb::Field f = all_fields(int_field(4, 3))[0];
  CHECK(error_of([&] { f.as_float(); }) == "protobuf: Test field 4: wire type varint, expected fixed32");
  CHECK(error_of([&] { f.as_string(); }).find("expected length-delimited") != std::string::npos);
  std::vector<float> floats;
  const pb::Field odd = all_fields(bytes_field(4, "abcde"))[0];
  CHECK(error_of([&] { pb::append_floats(odd, floats); }).find("not a multiple of 4") != std::string::npos);
}

TEST_CASE("protobuf: embedded messages nest at most kMaxDepth deep") {
  std::string msg = int_field(2, 1);
  for (int i = 0; i < pb::kMaxDepth + 5; ++i) msg = bytes_field(1, msg);
  // Descend through field 1 until the reader refuses.
  const std::string err = error_of([&] {
    pb::Reader r(msg, "Test");
    pb::Field f;
    while (r.next(f) && f.number == 1) r = r.embedded(f, "Test");
  });
  CHECK(err == "protobuf: Test: messages nested more than 32 deep");
}

// ---------------- TensorProto ----------------

TEST_CASE("onnx: TensorProto from raw_data and from the typed fields") {
  using onnx::DataType;
  std::string raw;
  for (float v : {1.0f, -2.0f, 3.5f, 0.0f}) raw += little_endian(v);
  Tensor a = onnx::parse_tensor(tensor_proto({2, 2}, DataType::float32) + bytes_field(9, raw));
  CHECK(a.dtype() == DType::f32);
  CHECK(a.shape() == Shape{2, 2});
  CHECK(a.to_vector() == std::vector<double>{1, -2, 3.5, 0});

  std::string packed_floats = little_endian(0.5f) + little_endian(-0.25f);
  Tensor b = onnx::parse_tensor(tensor_proto({2}, DataType::float32) + bytes_field(4, packed_floats));
  CHECK(b.to_vector() == std::vector<double>{0.5, -0.25});

  Tensor c = onnx::parse_tensor(tensor_proto({3}, DataType::int64) + packed_varints(7, {5, -6, 1LL << 40}));
  CHECK(c.dtype() == DType::i64);
  CHECK(c.to_vector() == std::vector<double>{5, -6, double(1LL << 40)});

  Tensor d = onnx::parse_tensor(tensor_proto({2}, DataType::int32) + bytes_field(9, little_endian(int32_t(-3)) +
                                                                                       little_endian(int32_t(9))));
  CHECK(d.dtype() == DType::i64);  // INT32 widens
  CHECK(d.to_vector() == std::vector<double>{-3, 9});

  Tensor e = onnx::parse_tensor(tensor_proto({3}, DataType::boolean) + packed_varints(5, {1, 0, 1}));
  CHECK(e.dtype() == DType::b8);
  CHECK(e.to_vector() == std::vector<double>{1, 0, 1});

  Tensor f = onnx::parse_tensor(tensor_proto({}, DataType::float64) + double_field(10, 2.5));  // a scalar
  CHECK(f.dim() == 0);
  CHECK(f.item() == 2.5);

  Tensor empty_tensor = onnx::parse_tensor(tensor_proto({0, 3}, DataType::float32));
  CHECK(empty_tensor.numel() == 0);
}

TEST_CASE("onnx: TensorProto errors") {
  using onnx::DataType;
  const std::string named = bytes_field(8, "w");
  CHECK(error_of([&] {
          onnx::parse_tensor(tensor_proto({2, 2}, DataType::float32) + named + bytes_field(9, "abcd"));
        }) == "TensorProto 'w': raw_data has 4 bytes, but FLOAT [2, 2] needs 4 values of 4 bytes");
  CHECK(error_of([&] { onnx::parse_tensor(tensor_proto({3}, DataType::int64) + packed_varints(7, {1})); }) ==
        "TensorProto: 1 values for INT64 [3] (3 elements)");
  CHECK(error_of([&] { onnx::parse_tensor(tensor_proto({-1}, DataType::float32)); }) ==
        "TensorProto: negative dim -1");
  CHECK(error_of([&] { onnx::parse_tensor(tensor_proto({1LL << 40, 1LL << 40}, DataType::float32)); }) ==
        "TensorProto: too many elements");
  // Behind a zero dim too (no elements, but the strides would overflow): fuzz_onnx's find.
  CHECK(error_of([&] { onnx::parse_tensor(tensor_proto({0, 1LL << 61, 7}, DataType::float32)); }) ==
        "TensorProto: too many elements");
  // Valid ONNX that stylegrad cannot hold is Unsupported, not an error.
  CHECK_THROWS_AS(onnx::parse_tensor(tensor_proto({1}, DataType::float16) + packed_varints(5, {0})),
                  onnx::Unsupported);
  CHECK_THROWS_AS(onnx::parse_tensor(tensor_proto(std::vector<int64_t>(9, 1), DataType::float32)),
                  onnx::Unsupported);
}

// ---------------- ModelProto ----------------

TEST_CASE("onnx: a hand-made model with one node") {
  const std::string tensor_type = bytes_field(2, bytes_field(1, int_field(1, 1)));  // TypeProto.tensor_type
  const std::string node = bytes_field(1, "x") + bytes_field(2, "y") + bytes_field(4, "Conv") +
                           bytes_field(5, bytes_field(1, "group") + int_field(3, 2) + int_field(20, 2)) +
                           bytes_field(5, bytes_field(1, "pads") + packed_varints(8, {1, 0, 1, 0}) +
                                          int_field(20, 7)) +
                           bytes_field(5, bytes_field(1, "alpha") + float_field(2, 0.5f));  // no type: inferred
  const std::string weight = tensor_proto({1}, onnx::DataType::float32) + bytes_field(8, "w") +
                             float_field(4, 3.0f);
  const std::string graph = bytes_field(1, node) + bytes_field(5, weight) +
                            bytes_field(11, bytes_field(1, "x") + tensor_type) +
                            bytes_field(11, bytes_field(1, "w") + tensor_type) +  // an initializer: not an input
                            bytes_field(12, bytes_field(1, "y") + tensor_type);
  const std::string model = int_field(1, 8) + bytes_field(8, bytes_field(1, "") + int_field(2, 13)) +
                            bytes_field(8, bytes_field(1, "ai.onnx.ml") + int_field(2, 2)) + bytes_field(7, graph);
  const onnx::Model m = onnx::parse_model(model);
  CHECK(m.opset == 13);
  REQUIRE(m.nodes.size() == 1);
  const onnx::Node& n = m.nodes[0];
  CHECK(n.op_type == "Conv");
  CHECK(n.inputs == std::vector<std::string>{"x"});
  CHECK(n.get_int("group", 1) == 2);
  CHECK(n.get_int("absent", 7) == 7);
  CHECK(n.get_ints("pads", {}) == std::vector<int64_t>{1, 0, 1, 0});
  CHECK(n.get_float("alpha", 0) == 0.5f);
  CHECK(error_of([&] { n.get_float("group", 0); }) == "Conv: attribute 'group' is INT, expected FLOAT");
  REQUIRE(m.inputs.size() == 1);
  CHECK(m.inputs[0].name == "x");
  CHECK(m.inputs[0].kind == "tensor");
  REQUIRE(m.initializers.size() == 1);
  CHECK(m.initializers[0].first == "w");
  CHECK(m.initializers[0].second.item() == 3.0);
  CHECK(m.outputs[0].name == "y");

  CHECK(error_of([] { onnx::parse_model(int_field(1, 8)); }) == "ModelProto has no graph");
  CHECK(error_of([&] { onnx::parse_model(model.substr(0, model.size() - 3)); }).find("protobuf: ModelProto") == 0);
}

// ---------------- real files ----------------

TEST_CASE("onnx: real node tests from libonnx-testdata") {
  if (!std::filesystem::is_directory(kNodeTests)) {
    MESSAGE("libonnx-testdata is not installed; skipping (make conformance installs it)");
    return;
  }
  SUBCASE("Relu: the model, its input and its expected output") {
    const std::filesystem::path dir = kNodeTests / "test_relu";
    const onnx::Model m = onnx::parse_model(read_file(dir / "model.onnx"));
    REQUIRE(m.nodes.size() == 1);
    CHECK(m.nodes[0].op_type == "Relu");
    CHECK(m.opset > 0);
    const Tensor x = onnx::parse_tensor(read_file(dir / "test_data_set_0/input_0.pb"));
    const Tensor y = onnx::parse_tensor(read_file(dir / "test_data_set_0/output_0.pb"));
    CHECK(x.shape() == Shape{3, 4, 5});
    check_close(relu(x), y, 0, 0);
  }
  SUBCASE("Conv: attributes") {
    const onnx::Model m = onnx::parse_model(read_file(kNodeTests / "test_conv_with_strides_padding/model.onnx"));
    REQUIRE(m.nodes.size() == 1);
    const onnx::Node& n = m.nodes[0];
    CHECK(n.op_type == "Conv");
    CHECK(n.get_ints("kernel_shape", {}) == std::vector<int64_t>{3, 3});
    CHECK(n.get_ints("pads", {}) == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(n.get_ints("strides", {}) == std::vector<int64_t>{2, 2});
  }
  SUBCASE("stylegrad conformance on a few tests") {
    std::string out;
    const int status = run_command(std::string(STYLEGRAD_BINARY) + " conformance --filter test_gemm_", &out);
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("test_gemm_all_attributes: pass") != std::string::npos);
    CHECK(out.find("11 passed, 0 failed, 0 unsupported\n") != std::string::npos);
  }
}

TEST_CASE("onnx: stylegrad conformance reports a malformed model as a failure") {
  const std::filesystem::path root = std::filesystem::temp_directory_path() / "stylegrad_test_onnx";
  std::filesystem::create_directories(root / "test_garbage/test_data_set_0");
  std::ofstream(root / "test_garbage/model.onnx", std::ios::binary) << "\x3a\x7f" "abc";  // graph runs past the end
  std::string out;
  const int status = run_command(std::string(STYLEGRAD_BINARY) + " conformance " + root.string(), &out);
  std::filesystem::remove_all(root);
  INFO(out);
  CHECK(status == 1);
  CHECK(out.find("test_garbage: FAIL (error: protobuf: ModelProto: field at byte 2 needs 127 bytes, only 3 left)") !=
        std::string::npos);
  CHECK(out.find("0 passed, 1 failed, 0 unsupported") != std::string::npos);
}
