# The engine as a container image, for `rtmtl worker` fleets (docker-compose.yml) and single runs.
# Untested here (no Docker, no internet on the machine this was written on); see docs/many-machines.md.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Cli/RealtimeMtl.Cli.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# ffmpeg: the H.264 recorder and network streams; libgtk-3-0: OpenCV's highgui, which the runtime package links.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libgtk-3-0 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
COPY models /app/models
WORKDIR /work
ENTRYPOINT ["dotnet", "/app/rtmtl.dll"]
CMD ["--help"]
