using System.Buffers.Binary;
using System.Text;
using RealtimeMtl.Feed;
using RealtimeMtl.Pipeline.Labels;
using RealtimeMtl.Serving;
using RealtimeMtl.Serving.Foxglove;

namespace RealtimeMtl.Serving.Tests;

/// <summary>The serving element's pieces without a server: the Foxglove wire format, the token rules, the feed's class statistics.</summary>
public class ServingUnitTests
{
    [Fact]
    public void A_foxglove_message_frame_is_opcode_then_little_endian_subscription_and_time_then_the_payload()
    {
        var m = FoxgloveProtocol.Message(0x01020304, 1_700_000_000_123_456_789, "{}"u8);
        Assert.Equal(FoxgloveProtocol.MessageData, m[0]);
        Assert.Equal(0x01020304u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(1)));
        Assert.Equal(1_700_000_000_123_456_789ul, BinaryPrimitives.ReadUInt64LittleEndian(m.AsSpan(5)));
        Assert.Equal("{}", Encoding.UTF8.GetString(m, FoxgloveProtocol.MessageHeader, m.Length - FoxgloveProtocol.MessageHeader));
    }

    [Fact]
    public void Client_operations_parse_and_anything_malformed_is_ignored()
    {
        var (sub, unsub) = FoxgloveProtocol.Parse("""{"op":"subscribe","subscriptions":[{"id":7,"channelId":2},{"id":8,"channelId":5}]}"""u8);
        Assert.Equal([(2, 7u), (5, 8u)], sub);
        Assert.Empty(unsub);
        (sub, unsub) = FoxgloveProtocol.Parse("""{"op":"unsubscribe","subscriptionIds":[7]}"""u8);
        Assert.Empty(sub);
        Assert.Equal([7u], unsub);
        foreach (var bad in new[] { "not json", """{"op":"subscribe","subscriptions":[{"id":"x","channelId":2}]}""", """{"op":"advertise"}""", "[]" })
        {
            var (s, u) = FoxgloveProtocol.Parse(Encoding.UTF8.GetBytes(bad));
            Assert.Empty(s);
            Assert.Empty(u);
        }
    }

    [Fact]
    public void Every_channel_is_advertised_with_its_schema()
    {
        var channels = FoxgloveChannel.Table(new FoxgloveEncoders(LabelSet.Nyu13, "cam"));
        Assert.Equal(Enumerable.Range(1, channels.Count), channels.Select(c => c.Id));
        var advertise = System.Text.Json.JsonDocument.Parse(FoxgloveProtocol.Advertise(channels)).RootElement;
        Assert.Equal("advertise", advertise.GetProperty("op").GetString());
        var listed = advertise.GetProperty("channels").EnumerateArray().ToList();
        Assert.Equal(channels.Select(c => c.Topic), listed.Select(c => c.GetProperty("topic").GetString()));
        foreach (var (channel, json) in channels.Zip(listed))
        {
            // Binary: CDR with the ROS 2 definition (the Foxglove client decodes with it; the integration test checks that).
            Assert.Equal("cdr", json.GetProperty("encoding").GetString());
            Assert.Equal("ros2msg", json.GetProperty("schemaEncoding").GetString());
            Assert.Equal(channel.Schema.Name, json.GetProperty("schemaName").GetString());
            Assert.StartsWith(channel.Schema.Definition.Split('\n')[0], json.GetProperty("schema").GetString());
        }
    }

    [Theory]
    [InlineData("Bearer s3cret", "s3cret")]
    [InlineData("bearer s3cret ", "s3cret")]
    [InlineData("Basic czNjcmV0", null)]
    [InlineData("Bearer", null)]
    [InlineData("", null)]
    public void The_bearer_token_is_read_from_an_authorization_header(string header, string? expected)
    {
        Assert.Equal(expected, AccessToken.FromAuthorization(header));
    }

    [Fact]
    public void Tokens_match_only_exactly()
    {
        Assert.True(AccessToken.Matches("s3cret", "s3cret"));
        Assert.False(AccessToken.Matches("s3cre", "s3cret"));
        Assert.False(AccessToken.Matches(null, "s3cret"));
    }

    [Fact]
    public void Feed_class_statistics_take_shares_of_labelled_pixels_and_depth_of_valid_pixels()
    {
        byte[] labels = [0, 0, 0, 1, LabelSet.Ignore, LabelSet.Ignore, 200, 1];
        float[] depth = [1, 2, 3, 4, 9, 9, 9, float.NaN];
        var stats = FeedPayload.ClassStats(labels, depth, LabelSet.Nyu13);
        Assert.Equal([0u, 1u], stats.Select(s => s.ClassId));
        Assert.Equal(3f / 5, stats[0].PixelShare, 5);
        Assert.Equal(2f / 5, stats[1].PixelShare, 5);
        Assert.Equal(2f, stats[0].MedianM);
        Assert.Equal(4f, stats[1].NearestM); // the NaN is not a depth
    }
}
