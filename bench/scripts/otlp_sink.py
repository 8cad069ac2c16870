# A minimal OTLP/gRPC trace receiver for bench/scripts/telemetry-instructions.sh: accepts and counts spans.
# Usage: python3 otlp_sink.py [PORT]   (needs: pip install grpcio opentelemetry-proto)
import sys
from concurrent import futures
import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb, trace_service_pb2_grpc as svc

class Sink(svc.TraceServiceServicer):
    count = 0
    def Export(self, request, context):
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                Sink.count += len(ss.spans)
        return pb.ExportTraceServiceResponse()

server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
svc.add_TraceServiceServicer_to_server(Sink(), server)
server.add_insecure_port("127.0.0.1:" + (sys.argv[1] if len(sys.argv) > 1 else "4317"))
server.start()
import signal, time
def bye(*a):
    print("spans", Sink.count, flush=True); sys.exit(0)
signal.signal(signal.SIGTERM, bye)
while True: time.sleep(1)
