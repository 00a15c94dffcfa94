import RedisSoftwareAPI
import Testing

@Suite(.tags(.unit))
struct HTTPDateTests {
    @Test func parsesTheReferenceExample() {
        #expect(HTTPDate.parse("Wed, 22 Dec 2021 12:50:11 GMT") == 1_640_177_411)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
    }

    @Test func acceptsTheObsoleteFormsTheRFCRequiresRecipientsToRead() {
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
    }

    @Test func leapYears() {
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 00:00:00 GMT") == 1_709_164_800)
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        #expect(HTTPDate.parse("Wed, 29 Feb 2023 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Thu, 29 Feb 1900 00:00:00 GMT") == nil)
    }

    @Test func leapSecondFoldsIntoTheNextSecond() {
        #expect(HTTPDate.parse("Sat, 31 Dec 2016 23:59:60 GMT") == 1_483_228_800)
    }

    @Test func datesBefore1970AndFarAhead() {
        #expect(HTTPDate.parse("Wed, 31 Dec 1969 23:59:59 GMT") == -1)
        #expect(HTTPDate.parse("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
    }

    @Test(arguments: [
        "", "GMT", "Wed, 22 Dec 2021 12:50:11", "Wed, 22 Dec 2021 12:50:11 UTC", "Wed, 22 Dec 2021 12:50:11 +0000",
        "Wed, 32 Dec 2021 12:50:11 GMT", "Wed, 31 Apr 2021 12:50:11 GMT", "Wed, 22 Dec 2021 24:00:00 GMT",
        "Wed, 22 Dec 2021 12:60:00 GMT", "Wed, 22 Dec 2021 12:50:61 GMT", "Wed, 22 dec 2021 12:50:11 GMT",
        "wed, 22 Dec 2021 12:50:11 GMT", "Wed, 2 Dec 2021 12:50:11 GMT", "Wed, 22 Dec 21 12:50:11 GMT",
        "Wed 22 Dec 2021 12:50:11 GMT", "Wed, 22 Dec 2021 12:50:11 GMT junk", "2021-12-22T12:50:11Z",
        "Thu, 22 Dec 2021 12:50:11 GMT",  // 22 Dec 2021 was a Wednesday
        "Wed, 00 Dec 2021 12:50:11 GMT", "Wed, 22 Xyz 2021 12:50:11 GMT", "Wed, 22 Dec 2021 1:50:11 GMT",
        "Wed, 22 Dec 2021 12:50:11 GMT\u{0}",
    ])
    func rejects(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func toleratesSurroundingSpaces() {
        #expect(HTTPDate.parse("  Wed, 22 Dec 2021 12:50:11 GMT ") == 1_640_177_411)
    }

    @Test func formatAndParseRoundTrip() {
        var t: Int64 = -2_208_988_800  // 1900-01-01
        while t < 4_102_444_800 {  // 2100-01-01
            let text = HTTPDate.format(t)
            #expect(HTTPDate.parse(text) == t, "\(text)")
            t += 7_777_777
        }
        #expect(HTTPDate.format(1_640_177_411) == "Wed, 22 Dec 2021 12:50:11 GMT")
    }
}
