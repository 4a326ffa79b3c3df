// HTML to text for ingestion: tags, scripts, styles and comments go; block tags become line
// breaks; entities are decoded; HTML is recognised by file name and content type.
#include "switchyard/rag/html_text.hpp"

#include <gtest/gtest.h>

namespace switchyard::rag {
namespace {

TEST(HtmlText, KeepsTheWordsAndDropsTheMarkup) {
    const std::string text = html_to_text(
        "<!DOCTYPE html><html><head><title>Backups</title>"
        "<style>body { color: red }</style>"
        "<script type=\"text/javascript\">var secret = '<p>not text</p>';</script></head>"
        "<body><h1>Nightly backups</h1><!-- internal note --><p>Run at <b>02:00</b> UTC.</p>"
        "<SCRIPT>alert(1)</SCRIPT><p>Kept &amp; checked&nbsp;daily.</p></body></html>");
    EXPECT_EQ(text.find('<'), std::string::npos) << text;
    EXPECT_EQ(text.find("secret"), std::string::npos) << text;
    EXPECT_EQ(text.find("alert"), std::string::npos) << text;
    EXPECT_EQ(text.find("color"), std::string::npos) << text;
    EXPECT_EQ(text.find("internal note"), std::string::npos) << text;
    EXPECT_NE(text.find("Nightly backups\n"), std::string::npos) << text;
    EXPECT_NE(text.find("Run at 02:00 UTC."), std::string::npos) << text;
    EXPECT_NE(text.find("Kept & checked daily."), std::string::npos) << text;
}

TEST(HtmlText, DecodesEntitiesIncludingNumericOnes) {
    EXPECT_EQ(html_to_text("a &lt;b&gt; &quot;c&quot; &#39;d&#39; &#x263A; &#8212; &bogus; &"),
              "a <b> \"c\" 'd' \u263a \u2014 &bogus; &");
    EXPECT_EQ(html_to_text("&#0; &#xD800;"), "\ufffd \ufffd");  // not characters
}

TEST(HtmlText, BlockTagsBreakLinesButBlankRunsCollapse) {
    EXPECT_EQ(html_to_text("<div>one</div><br/><br><br><p>two</p><li>three"),
              "\none\n\ntwo\n\nthree");
    // Not a block tag though it starts like one.
    EXPECT_EQ(html_to_text("<pre>x</pre><param>y<b>z</b>"), "\nx\nyz");
}

TEST(HtmlText, UnclosedScriptAndTagsEndTheText) {
    EXPECT_EQ(html_to_text("before<script>never closed"), "before");
    EXPECT_EQ(html_to_text("before<a href='x'"), "before");
    EXPECT_EQ(html_to_text("x<script\r\ntype='module'>let a = 1;</script>y"), "xy");
    EXPECT_EQ(html_to_text(""), "");
    // A tag whose name only starts like script is an ordinary tag.
    EXPECT_EQ(html_to_text("<scripted>kept</scripted>"), "kept");
}

TEST(HtmlText, ALessThanSignBeforeNoTagNameIsText) {
    EXPECT_EQ(html_to_text("<p>if a < b and b <= c then a <3 c</p>"),
              "\nif a < b and b <= c then a <3 c\n");
    EXPECT_EQ(html_to_text("ends with <"), "ends with <");
}

TEST(HtmlText, EmptyCommentsHideNothing) {
    EXPECT_EQ(html_to_text("a<!-->b<!--->c<!-- x -->d"), "abcd");
}

TEST(HtmlText, CellsAndListsAreSeparated) {
    EXPECT_EQ(html_to_text("<table><tr><td>a</td><td>b</td></tr></table>"), "\n\na\n\nb\n\n");
    EXPECT_EQ(html_to_text("<ul><li>one</li></ul><blockquote>q</blockquote>"), "\n\none\n\nq\n");
}

TEST(HtmlText, RecognisesHtmlByNameAndContentType) {
    EXPECT_TRUE(is_html_name("page.html"));
    EXPECT_TRUE(is_html_name("docs/INDEX.HTM"));
    EXPECT_FALSE(is_html_name("notes.md"));
    EXPECT_FALSE(is_html_name("html"));
    EXPECT_TRUE(is_html_content_type("text/html"));
    EXPECT_TRUE(is_html_content_type(" Text/HTML; charset=utf-8"));
    EXPECT_TRUE(is_html_content_type("application/xhtml+xml"));
    EXPECT_FALSE(is_html_content_type("text/plain"));
    EXPECT_FALSE(is_html_content_type("text/htmlx"));
}

}  // namespace
}  // namespace switchyard::rag
