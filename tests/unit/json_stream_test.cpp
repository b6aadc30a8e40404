// The watch stream arrives in arbitrary pieces: a libcurl write may end inside a message, inside
// a string or an escape, or carry several messages. Whatever the chunking, the documents must
// come out the same.
#include "codec/json_stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/json_fields.hpp"
#include "unit/recorded_traffic.hpp"

namespace dcs::codec {
namespace {

namespace rec = dcs::test::recorded;

// watch1.raw followed by the graceful-shutdown error object (no trailing newline).
std::string recorded_stream() {
  std::string s;
  for (auto part : {rec::kWatchCreated, rec::kWatchPut, rec::kWatchPutPrevKv, rec::kWatchDelete, rec::kWatchPut24,
                    rec::kWatchShutdownError}) {
    s.append(part);
  }
  return s;
}

std::vector<std::string> expected_documents() {
  std::vector<std::string> docs;
  for (auto part : {rec::kWatchCreated, rec::kWatchPut, rec::kWatchPutPrevKv, rec::kWatchDelete, rec::kWatchPut24}) {
    docs.emplace_back(part.substr(0, part.size() - 1));  // without the newline
  }
  docs.emplace_back(rec::kWatchShutdownError);
  return docs;
}

std::vector<std::string> split_at(const std::string& stream, const std::vector<std::size_t>& cuts) {
  JsonStreamSplitter splitter;
  std::vector<std::string> docs;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    splitter.feed(std::string_view(stream).substr(from, cut - from), docs);
    from = cut;
  }
  splitter.feed(std::string_view(stream).substr(from), docs);
  EXPECT_FALSE(splitter.has_partial_document());
  return docs;
}

TEST(JsonStreamSplitter, SplitsARecordedStreamFedInOnePiece) {
  const auto docs = split_at(recorded_stream(), {});
  EXPECT_EQ(docs, expected_documents());
  for (const auto& doc : docs) EXPECT_NO_THROW(parse_object(doc)) << doc;
}

TEST(JsonStreamSplitter, YieldsTheSameDocumentsWhateverSingleByteBoundary) {
  const std::string stream = recorded_stream();
  const auto expected = expected_documents();
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(split_at(stream, {cut}), expected) << "cut at " << cut;
  }
}

TEST(JsonStreamSplitter, YieldsTheSameDocumentsWhateverPairOfBoundariesInAShortStream) {
  // Short messages with the awkward bytes: escaped quotes and backslashes, braces and brackets
  // inside strings, nested objects and arrays.
  const std::string first = R"({"result":{"cancel_reason":"a \"quoted\" {brace} [x] \\","n":[1,{"a":"}"}]}})";
  const std::string second = R"({"error":{"message":"\\\"}","code":14}})";
  const std::string stream = first + "\n" + second;
  const std::vector<std::string> expected = {first, second};
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      ASSERT_EQ(split_at(stream, {a, b}), expected) << "cuts at " << a << " and " << b;
    }
  }
}

TEST(JsonStreamSplitter, HandlesByteByByteFeeding) {
  const std::string stream = recorded_stream();
  JsonStreamSplitter splitter;
  std::vector<std::string> docs;
  for (char c : stream) splitter.feed(std::string_view(&c, 1), docs);
  EXPECT_EQ(docs, expected_documents());
}

TEST(JsonStreamSplitter, HandlesDocumentsWithoutSeparatorsAndWithExtraWhitespace) {
  JsonStreamSplitter splitter;
  std::vector<std::string> docs;
  splitter.feed("{\"a\":1}{\"b\":2}\r\n\t {\"c\":3}\n\n", docs);
  EXPECT_EQ(docs, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_FALSE(splitter.has_partial_document());
}

TEST(JsonStreamSplitter, ReportsAStreamCutInsideADocument) {
  const std::string stream = recorded_stream();
  const std::string first(rec::kWatchCreated);
  JsonStreamSplitter splitter;
  std::vector<std::string> docs;
  splitter.feed(first, docs);
  EXPECT_FALSE(splitter.has_partial_document()) << "a complete message and its newline";
  splitter.feed(std::string(rec::kWatchPut).substr(0, 40), docs);
  EXPECT_TRUE(splitter.has_partial_document());
  EXPECT_EQ(docs.size(), 1u);

  // Every prefix that ends strictly inside a document counts as cut.
  const auto expected = expected_documents();
  std::size_t offset = 0;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end) of each document
  for (const auto& doc : expected) {
    const auto begin = stream.find(doc, offset);
    spans.emplace_back(begin, begin + doc.size());
    offset = begin + doc.size();
  }
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    JsonStreamSplitter s;
    std::vector<std::string> out;
    s.feed(std::string_view(stream).substr(0, cut), out);
    bool inside = false;
    for (const auto& [begin, end] : spans) inside = inside || (cut > begin && cut < end);
    EXPECT_EQ(s.has_partial_document(), inside) << "cut at " << cut;
  }
}

// Strings are skipped to their closing quote in one search, so every run of backslashes before a
// quote matters: an odd run escapes it, an even run does not, wherever the chunks are cut.
TEST(JsonStreamSplitter, BackslashRunsBeforeAQuoteDecideWhereAStringEnds) {
  for (int run = 0; run <= 5; ++run) {
    const std::string backslashes(static_cast<std::size_t>(run), '\\');
    // An odd run escapes the quote, so the string goes on to the next one; the '}' in between
    // is then string content.
    const std::string document =
        run % 2 == 0 ? "{\"a\":\"x" + backslashes + "\",\"b\":{}}" : "{\"a\":\"x" + backslashes + "\"}\\\\\",\"b\":[]}";
    const std::string stream = document + "\n{\"c\":\"\\\\\"}";
    const std::vector<std::string> expected = {document, "{\"c\":\"\\\\\"}"};
    for (std::size_t a = 0; a <= stream.size(); ++a) {
      for (std::size_t b = a; b <= stream.size(); ++b) {
        ASSERT_EQ(split_at(stream, {a, b}), expected) << "run " << run << ", cuts at " << a << " and " << b;
      }
    }
    for (const auto& doc : expected) EXPECT_NO_THROW(parse_object(doc)) << doc;
  }
}

TEST(JsonStreamSplitter, AStringThatSpansManyChunksKeepsItsEscapeState) {
  // A long value (as a base64 member value is) fed in chunks that each end on a backslash.
  std::string value;
  for (int i = 0; i < 50; ++i) value += "abc\\\\d\\\"";  // abc, an escaped backslash, d, an escaped quote
  const std::string document = "{\"v\":\"" + value + "\"}";
  JsonStreamSplitter splitter;
  std::vector<std::string> docs;
  std::size_t from = 0;
  while (from < document.size()) {
    auto to = document.find('\\', from);
    to = to == std::string::npos ? document.size() : to + 1;
    splitter.feed(std::string_view(document).substr(from, to - from), docs);
    from = to;
  }
  ASSERT_EQ(docs, std::vector<std::string>{document});
  EXPECT_EQ(parse_object(docs[0]).at("v").get<std::string>().size(), 50u * 6u);  // abc \ d "
}

TEST(JsonStreamSplitter, RejectsBytesOutsideAnObject) {
  JsonStreamSplitter splitter;
  std::vector<std::string> docs;
  EXPECT_THROW(splitter.feed("404 page not found\n", docs), DecodeError);

  JsonStreamSplitter after_document;
  EXPECT_THROW(after_document.feed("{\"a\":1}\n[1]", docs), DecodeError);
}

}  // namespace
}  // namespace dcs::codec
