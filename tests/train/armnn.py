"""armnn.py - run a .tflite through ArmNN (CpuRef): nad's independent referee."""
import numpy as np
import pyarmnn as ann


class Model:
    def __init__(self, path):
        self.parser = ann.ITfLiteParser()
        net = self.parser.CreateNetworkFromBinaryFile(path)
        inn = self.parser.GetSubgraphInputTensorNames(0)[0]
        outn = self.parser.GetSubgraphOutputTensorNames(0)[0]
        self.ib = self.parser.GetNetworkInputBindingInfo(0, inn)
        self.ob = self.parser.GetNetworkOutputBindingInfo(0, outn)
        self.rt = ann.IRuntime(ann.CreationOptions())
        opt, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], self.rt.GetDeviceSpec(),
                              ann.OptimizerOptions())
        self.nid, _ = self.rt.LoadNetwork(opt)
        self.int8 = self.ib[1].GetDataType() != ann.DataType_Float32

    def run(self, vec):
        """One input vector (raw int8 values for an int8 model) -> output."""
        dtype = np.int8 if self.int8 else np.float32
        inp = ann.make_input_tensors([self.ib], [np.asarray(vec, dtype=dtype)])
        out = ann.make_output_tensors([self.ob])
        self.rt.EnqueueWorkload(self.nid, inp, out)
        return np.asarray(ann.workload_tensors_to_ndarray(out)[0]).reshape(-1)
