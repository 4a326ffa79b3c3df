// The remote embedder's answer checks (remote_embedding::parse_rows): rows land in input order
// by `index`, are normalised, and a wrong count, dimension, index or value is refused with a
// message. Batching, retries and the HTTP side run against the mock upstream in
// tests/integration/rag_remote_embedder_test.mjs.
#include "switchyard/providers/remote_embedder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {
namespace {

using remote_embedding::parse_rows;

TEST(RemoteEmbedderRows, MapsIndexesBackToInputOrderAndNormalises) {
    rag::EmbeddingBatch out;
    size_t dim = 0;
    // Out of order, not unit length: row 1 first.
    const std::string data = R"([{"object":"embedding","index":1,"embedding":[0,3,4]},)"
                             R"({"object":"embedding","index":0,"embedding":[2,0,0]}])";
    ASSERT_EQ(parse_rows(data, 2, 0, 2, dim, out), "");
    EXPECT_EQ(dim, 3u);
    ASSERT_EQ(out.rows(), 2u);
    EXPECT_FLOAT_EQ(out.row(0)[0], 1.0f);
    EXPECT_FLOAT_EQ(out.row(0)[1], 0.0f);
    EXPECT_FLOAT_EQ(out.row(1)[1], 0.6f);
    EXPECT_FLOAT_EQ(out.row(1)[2], 0.8f);
}

TEST(RemoteEmbedderRows, SecondBatchFillsItsOwnRows) {
    rag::EmbeddingBatch out;
    size_t dim = 0;
    ASSERT_EQ(parse_rows(R"([{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,1]}])", 2, 0,
                         3, dim, out),
              "");
    ASSERT_EQ(parse_rows(R"([{"index":0,"embedding":[-5,0]}])", 1, 2, 3, dim, out), "");
    ASSERT_EQ(out.rows(), 3u);
    EXPECT_FLOAT_EQ(out.row(0)[0], 1.0f);
    EXPECT_FLOAT_EQ(out.row(1)[1], 1.0f);
    EXPECT_FLOAT_EQ(out.row(2)[0], -1.0f);
}

TEST(RemoteEmbedderRows, RefusesWhatItCannotUse) {
    auto error = [](std::string_view data, size_t n, size_t dim = 0) {
        rag::EmbeddingBatch out;
        return parse_rows(data, n, 0, n, dim, out);
    };
    EXPECT_NE(error(R"([{"index":0,"embedding":[1,0]}])", 2).find("1 embeddings for 2 inputs"),
              std::string::npos);
    EXPECT_NE(error(R"([{"index":0,"embedding":[1,0]},{"index":1,"embedding":[1,0,0]}])", 2)
                  .find("3 dimensions, expected 2"),
              std::string::npos);
    EXPECT_NE(error(R"([{"index":0,"embedding":[1,0]}])", 1, 3).find("expected 3"),
              std::string::npos);
    EXPECT_NE(error(R"([{"index":0,"embedding":[1,0]},{"index":0,"embedding":[0,1]}])", 2)
                  .find("repeated"),
              std::string::npos);
    EXPECT_NE(error(R"([{"index":5,"embedding":[1,0]}])", 1).find("out of range"),
              std::string::npos);
    EXPECT_NE(error(R"([{"index":0,"embedding":[0,0]}])", 1).find("zero"), std::string::npos);
    EXPECT_NE(error(R"([{"index":0,"embedding":"AAAA"}])", 1).find("encoding_format float"),
              std::string::npos);
    EXPECT_NE(error(R"([{"index":0,"embedding":[1,"x"]}])", 1).find("not a number"),
              std::string::npos);
    EXPECT_NE(error(R"({"data":[]})", 1).find("not an array"), std::string::npos);
}

TEST(RemoteEmbedderBatches, CappedByCountAndBytesAtLeastOneText) {
    using remote_embedding::batch_end;
    const std::string big(3000, 'x');
    const std::vector<std::string_view> texts = {"a", "bb", "ccc", big, "d", "e", "f"};
    EXPECT_EQ(batch_end(texts, 0, 64, 1 << 20), 7u);  // everything fits
    EXPECT_EQ(batch_end(texts, 0, 2, 1 << 20), 2u);   // by count
    EXPECT_EQ(batch_end(texts, 0, 64, 6), 3u);        // a + bb + ccc = 6 bytes
    EXPECT_EQ(batch_end(texts, 0, 64, 5), 2u);
    EXPECT_EQ(batch_end(texts, 3, 64, 1024), 4u);  // too big for the cap: sent alone
    EXPECT_EQ(batch_end(texts, 4, 64, 1024), 7u);
    EXPECT_EQ(batch_end(texts, 7, 64, 1024), 7u);  // nothing left
}

TEST(RemoteEmbedder, NameIsProviderAndUpstreamModel) {
    ModelConfig m;
    m.provider_name = "openai";
    m.upstream_model = "text-embedding-3-small";
    EXPECT_EQ(RemoteEmbedder::name_of(m), "openai:text-embedding-3-small");
}

}  // namespace
}  // namespace switchyard
