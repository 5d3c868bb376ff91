import { CreateSignalingChannelCommand, CreateStreamCommand, UpdateMediaStorageConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';

/** The operator's flow for WebRTC ingestion: a stream with retention, a channel, the channel's media storage mapped to the stream. */
export async function createStorageChannel(kv: KinesisVideoClient, names: { stream: string; channel: string }, withStorage = true): Promise<{ channelArn: string; streamName: string; streamArn: string }> {
  const streamArn = (await kv.send(new CreateStreamCommand({ StreamName: names.stream, DataRetentionInHours: 24 }))).StreamARN!;
  const channelArn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: names.channel }))).ChannelARN!;
  if (withStorage) {
    await kv.send(new UpdateMediaStorageConfigurationCommand({ ChannelARN: channelArn, MediaStorageConfiguration: { Status: 'ENABLED', StreamARN: streamArn } }));
  }
  return { channelArn, streamName: names.stream, streamArn };
}
