// PII and secrets scanner: finds e-mail addresses, phone numbers, payment cards (Luhn + IIN),
// IBANs (length table + mod 97), national IDs (US SSN, UK NINO, German Steuer-ID) and
// credentials (provider API keys, JWTs, PEM private keys) in text with hand-written scanners,
// one forward pass, no regex engine. Findings carry kind, byte offset and length only: the
// matched text is never copied or logged.
// Thread safety: free functions over immutable tables; safe from any thread.
// Failure: none; malformed UTF-8 or binary input is scanned as bytes and yields no crash.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace switchyard::routing {

enum class PiiKind : uint8_t {
    kEmail,
    kPhone,
    kPaymentCard,
    kIban,
    kUsSsn,
    kUkNino,
    kDeTaxId,     // German Steuerliche Identifikationsnummer (11 digits, ISO 7064 check)
    kApiKey,      // OpenAI, Anthropic, AWS, GitHub, Slack, Google, Stripe, Switchyard keys
    kJwt,         // eyJ<header>.<payload>.<signature>
    kPrivateKey,  // -----BEGIN ... PRIVATE KEY----- (the whole block when it ends)
};
inline constexpr int kPiiKindCount = 10;
std::string_view to_string(PiiKind kind);

// Ordered: a prompt's privacy level is the highest level of its findings.
enum class PrivacyLevel : uint8_t { kNone, kPersonal, kSensitive, kSecret };
std::string_view to_string(PrivacyLevel level);

struct PiiOptions {
    // Level each kind counts as; kNone turns a kind off (it is then not even reported).
    std::array<PrivacyLevel, kPiiKindCount> level_of{
        PrivacyLevel::kPersonal,   // e-mail
        PrivacyLevel::kPersonal,   // phone
        PrivacyLevel::kSensitive,  // payment card
        PrivacyLevel::kSensitive,  // IBAN
        PrivacyLevel::kSensitive,  // US SSN
        PrivacyLevel::kSensitive,  // UK NINO
        PrivacyLevel::kSensitive,  // German tax ID
        PrivacyLevel::kSecret,     // API key
        PrivacyLevel::kSecret,     // JWT
        PrivacyLevel::kSecret,     // private key
    };
    // Skip credentials that look like documentation placeholders ("...EXAMPLE", "xxxx",
    // "your-key", one repeated character).
    bool ignore_placeholder_keys = true;
};

struct PiiFinding {
    PiiKind kind = PiiKind::kEmail;
    uint32_t offset = 0;  // bytes from the start of the scanned text
    uint32_t length = 0;  // bytes
};

// Appends the findings in `text` to `out`, in increasing offset order, non-overlapping.
void scan_pii(std::string_view text, const PiiOptions& options, std::vector<PiiFinding>& out);

// Checks used by the scanner, exposed for tests. Inputs are the digits/characters only
// (no separators) unless said otherwise.
bool luhn_valid(std::string_view digits);
bool card_iin_known(std::string_view digits);          // Visa, Mastercard, Amex, Discover, JCB, ...
bool iban_valid(std::string_view iban);                // "DE89370400440532013000": length + mod 97
bool us_ssn_valid(std::string_view nine_digits);       // area/group/serial rules
bool uk_nino_valid(std::string_view nino);             // "AB123456C", prefix rules, suffix A-D
bool de_tax_id_valid(std::string_view eleven_digits);  // digit rule + ISO 7064 MOD 11,10

}  // namespace switchyard::routing
